import Foundation
import GanModel

/// One row of log.csv: an iteration's losses and D outputs, wall-clock and training seconds since
/// iteration 0 (across resumes), throughput, and the SWD mean where it was measured.
public struct TrainingLogRow: Equatable {
  public var iteration: Int
  public var epoch: Int
  public var stats: StepStatistics
  public var seconds: Double
  public var imagesPerSecond: Double
  /// SWD x 1e3 (mean over levels), when measured at this iteration.
  public var swd: Double?
  public var trainSeconds: Double

  /// The CSV line, without its newline.
  var csv: String {
    let s = stats
    return "\(iteration),\(epoch),\(s.lossD),\(s.lossG),\(s.dx),\(s.dgz1),\(s.dgz2),\(formatFixed(seconds, 3)),"
      + "\(formatFixed(imagesPerSecond, 1)),\(swd.map { formatFixed($0, 3) } ?? ""),\(formatFixed(trainSeconds, 3))"
  }

  /// A row as written by `csv`, or nil for a line that is not one (a torn last line, the header).
  /// Older logs without the throughput, SWD and train_seconds columns still give their losses.
  init?(csv line: Substring) {
    let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    guard f.count >= 7, let it = Int(f[0]), let epoch = Int(f[1]), let ld = Double(f[2]), let lg = Double(f[3]),
          let dx = Double(f[4]), let d1 = Double(f[5]), let d2 = Double(f[6]) else { return nil }
    iteration = it
    self.epoch = epoch
    stats = StepStatistics(lossD: ld, lossG: lg, dx: dx, dgz1: d1, dgz2: d2)
    seconds = f.count > 7 ? Double(f[7]) ?? 0 : 0
    imagesPerSecond = f.count > 8 ? Double(f[8]) ?? 0 : 0
    swd = f.count > 9 ? Double(f[9]) : nil
    trainSeconds = f.count > 10 ? Double(f[10]) ?? 0 : 0
  }

  public init(iteration: Int, epoch: Int, stats: StepStatistics, seconds: Double, imagesPerSecond: Double,
              swd: Double?, trainSeconds: Double) {
    self.iteration = iteration; self.epoch = epoch; self.stats = stats; self.seconds = seconds
    self.imagesPerSecond = imagesPerSecond; self.swd = swd; self.trainSeconds = trainSeconds
  }
}

/// <outf>/log.csv: created with its header by a new run, cut back to the checkpoint's iteration
/// by a resumed one (later rows belong to iterations that will be redone), appended a row per
/// iteration.
public final class TrainingLog {
  public static let header = "iteration,epoch,Loss_D,Loss_G,D_x,D_G_z1,D_G_z2,seconds,img_per_s,swd,train_seconds"
  public let path: String
  private var handle: FileHandle?

  public init(path: String) { self.path = path }
  deinit { handle?.closeFile() }

  /// A log holding only the header (replacing any earlier one).
  public func create() throws {
    handle?.closeFile(); handle = nil
    try writeFileAtomically(path: path, bytes: Array((TrainingLog.header + "\n").utf8))
  }

  /// The rows up to and including `iteration`; the file keeps just those. A missing or unreadable
  /// log gives no rows and stays as it is.
  public func restore(upTo iteration: Int) throws -> [TrainingLogRow] {
    handle?.closeFile(); handle = nil
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    let rows = text.split(separator: "\n").dropFirst().compactMap(TrainingLogRow.init(csv:))
      .filter { $0.iteration <= iteration }
    let kept = ([TrainingLog.header] + rows.map { $0.csv }).joined(separator: "\n") + "\n"
    try writeFileAtomically(path: path, bytes: Array(kept.utf8))
    return rows
  }

  /// Appends one row (the file is opened at the first append and kept open).
  public func append(_ row: TrainingLogRow) {
    if handle == nil {
      handle = FileHandle(forWritingAtPath: path)
      handle?.seekToEndOfFile()
    }
    handle?.write(Data((row.csv + "\n").utf8))
  }
}
