package io.dynamometrics.poll;

import io.dynamometrics.fleet.Target;

/** An observer that ignores everything; tests override what they count. */
public class QuietObserver implements PollObserver {
  @Override
  public void gathered(Target target, int replies, double seconds) {}

  @Override
  public void decodeError(String source, String reason, String detail) {}

  @Override
  public void eventAccepted(String namespace) {}

  @Override
  public void eventDropped(String namespace) {}

  @Override
  public void loadMessage(String result) {}

  @Override
  public void workersOverLimit(Target target, int refused) {}
}
