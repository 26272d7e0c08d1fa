import NIOCore
import NIOPosix

/// Every loop's context, found by the loop a channel runs on.
struct LoopContexts: Sendable {
  private let contexts: [ObjectIdentifier: NIOLoopBoundBox<LoopContext>]
  let loops: [any EventLoop]

  init(group: MultiThreadedEventLoopGroup, make: (any EventLoop) -> sending LoopContext) {
    var contexts: [ObjectIdentifier: NIOLoopBoundBox<LoopContext>] = [:]
    var loops: [any EventLoop] = []
    for loop in group.makeIterator() {
      contexts[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
        make(loop), eventLoop: loop)
      loops.append(loop)
    }
    self.contexts = contexts
    self.loops = loops
  }

  /// The context of `loop`; call on that loop.
  func context(on loop: any EventLoop) -> LoopContext {
    contexts[ObjectIdentifier(loop)]!.value
  }

  /// What `read` finds in every loop's context (read on each loop), in loop order.
  func gather<Value: Sendable>(_ read: @escaping @Sendable (LoopContext) -> Value) async
    -> [Value]
  {
    var values: [Value] = []
    for loop in loops {
      let bound = contexts[ObjectIdentifier(loop)]!
      if let value = try? await loop.submit({ read(bound.value) }).get() { values.append(value) }
    }
    return values
  }

  /// Runs `update` on every loop's context and waits for all of them.
  func update(_ update: @escaping @Sendable (LoopContext) -> Void) async {
    await withTaskGroup(of: Void.self) { group in
      for loop in loops {
        let bound = contexts[ObjectIdentifier(loop)]!
        group.addTask {
          try? await loop.submit { update(bound.value) }.get()
        }
      }
    }
  }
}
