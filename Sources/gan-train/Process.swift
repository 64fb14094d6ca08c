import Foundation
import GanTraining

/// SIGINT and SIGTERM ask the run to stop: it finishes the iteration, writes the checkpoint and
/// returns (gan-train then exits 130). Under mpirun every rank gets the signal and they agree on
/// the iteration; a reduction stuck on a lost rank then gives up within seconds.
enum StopSignal {
  nonisolated(unsafe) static var requested: Int32 = 0

  /// Installs the handlers; the closure says whether a signal has arrived.
  static func install() -> () -> Bool {
    signal(SIGINT) { _ in StopSignal.requested = 1; Communicator.noteStopSignal() }
    signal(SIGTERM) { _ in StopSignal.requested = 1; Communicator.noteStopSignal() }
    return { StopSignal.requested != 0 }
  }
}

/// The status line: redrawn in place on a terminal; notices (and the end of the run) first end
/// the line being redrawn. Off a terminal, status lines come through notices (every 50th).
final class TerminalProgress {
  let isTerminal = isatty(1) != 0
  private var lineOpen = false

  func status(_ p: RunProgress) {
    print("\r\u{1B}[K" + p.text, terminator: "")
    fflush(stdout)
    lineOpen = true
  }

  func notice(_ text: String) {
    endStatus()
    print(text)
    fflush(stdout)
  }

  func endStatus() {
    if lineOpen { print(""); lineOpen = false }
  }
}
