package io.dynamometrics.cli;

/** A mistake the user can fix (bad value, port in use): one line on stderr, exit code 2. */
final class UserError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UserError(String message) {
    super(message, null, false, false);
  }
}
