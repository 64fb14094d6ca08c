import CGanMPI

/// The ranks of a data-parallel training run and the reductions between them (DESIGN.md: one
/// fused gradient allreduce per network per step, synchronized BatchNorm). `.single` is one
/// process: every reduction is a no-op. `mpi` joins the job mpirun started (Open MPI through the
/// CGanMPI shim). Reductions sum in one fixed ring order, so a run is reproducible for a given
/// number of ranks and every rank holds the same bits.
public final class Communicator {
  public let rank: Int
  public let size: Int
  /// What happens when a reduction fails (a lost rank): the executable prints the reason and
  /// exits; a training step cannot continue without its peers.
  private let onFailure: (String) -> Never
  private var reason = [CChar](repeating: 0, count: 512)

  private init(rank: Int, size: Int, onFailure: @escaping (String) -> Never) {
    self.rank = rank; self.size = size; self.onFailure = onFailure
  }

  /// One process.
  public static let single = Communicator(rank: 0, size: 1) { preconditionFailure($0) }

  /// Ranks the launcher started this process among (mpirun's environment), 0 when not launched
  /// by one.
  public static var launchedRanks: Int { Int(gm_launched_size()) }

  /// Joins the MPI job (loads Open MPI, MPI_Init). Throws with the reason when MPI is missing.
  public static func mpi(onFailure: @escaping (String) -> Never) throws -> Communicator {
    var err = [CChar](repeating: 0, count: 512)
    guard gm_init(&err, err.count) == 0 else { throw CommunicatorError(message: String(cString: err)) }
    return Communicator(rank: Int(gm_rank()), size: Int(gm_size()), onFailure: onFailure)
  }

  /// Rank 0 writes the files of a run (logs, grids, checkpoints, the generator).
  public var isWriter: Bool { rank == 0 }

  /// Payload bytes this rank has sent in reductions.
  public var bytesSent: UInt64 { size > 1 ? gm_bytes_sent() : 0 }

  private func check(_ rc: Int32) {
    if rc != 0 { onFailure(String(cString: reason)) }
  }

  /// In-place sum over the ranks.
  public func sum(_ p: UnsafeMutablePointer<Float>, count: Int) {
    guard size > 1 else { return }
    check(gm_allreduce_sum_f32(p, count, &reason, reason.count))
  }

  public func sum(_ p: UnsafeMutablePointer<Double>, count: Int) {
    guard size > 1 else { return }
    check(gm_allreduce_sum_f64(p, count, &reason, reason.count))
  }

  /// True on every rank when it is true on any (stopping together at an iteration boundary).
  /// Patient: rank 0 may have spent a while alone on files and SWD before it gets here.
  public func any(_ flag: Bool) -> Bool {
    guard size > 1 else { return flag }
    var v: Int32 = flag ? 1 : 0
    gm_set_patient(1)
    defer { gm_set_patient(0) }
    check(gm_allreduce_max_i32(&v, 1, &reason, reason.count))
    return v != 0
  }

  /// Waits for every rank, without a time limit (rank 0 decoding a dataset, say).
  public func barrier() { _ = any(false) }

  /// From a signal handler (async-signal-safe): a reduction stuck on a lost rank gives up after a
  /// few seconds instead of waiting forever.
  public static func noteStopSignal() { gm_note_stop_signal() }

  public func finalize() { if size > 1 { gm_finalize() } }
}

public struct CommunicatorError: Error, CustomStringConvertible {
  public let message: String
  public var description: String { message }
}
