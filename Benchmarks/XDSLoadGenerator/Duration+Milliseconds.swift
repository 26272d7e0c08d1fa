extension Duration {
  /// The duration in milliseconds, to 0.1 ms.
  var milliseconds: Double {
    (self / .microseconds(100)).rounded() / 10
  }

  /// The duration in seconds, to 1 ms.
  var seconds: Double {
    (self / .milliseconds(1)).rounded() / 1000
  }
}
