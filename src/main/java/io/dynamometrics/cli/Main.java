package io.dynamometrics.cli;

import io.dynamometrics.log.Logging;
import picocli.CommandLine;

/**
 * Entry point: parses the command line and turns user mistakes into one clear line and exit code 2.
 */
public final class Main {
  /** {@link io.dynamometrics.log.ServiceLogManager}, named: loading it would start logging. */
  static final String LOG_MANAGER = "io.dynamometrics.log.ServiceLogManager";

  static {
    // before anything makes a logger, which fixes the log manager for good
    System.setProperty("java.util.logging.manager", LOG_MANAGER);
  }

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String... args) {
    CommandLine cli = new CommandLine(new AggregateCommand());
    // a namespace may well be called "demo": let option values match subcommand names
    cli.setAllowSubcommandsAsOptionParameters(true);
    cli.setParameterExceptionHandler(
        (ex, a) -> {
          String help =
              "Try '"
                  + ex.getCommandLine().getCommandSpec().qualifiedName()
                  + " --help' for more information.";
          ex.getCommandLine().getErr().println(Logging.userErrorLines(ex.getMessage(), help));
          return 2;
        });
    cli.setExecutionExceptionHandler(
        (ex, c, parsed) -> {
          if (ex instanceof UserError) {
            c.getErr().println(Logging.userErrorLine(ex.getMessage()));
            return 2;
          }
          throw ex;
        });
    return cli.execute(args);
  }

  /** The version from the jar manifest, or {@code dev} when run from classes. */
  static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
