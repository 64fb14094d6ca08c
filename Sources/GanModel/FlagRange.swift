/// The documented range of every numeric command-line flag shared by the tools, and the one check
/// that turns a value outside it into a usage error (exit 64, one line naming the flag). Bounds are
/// what the tools can plan memory for, not what a user is expected to need.
public enum FlagRange {
  /// Compute threads: the kernels' pool keeps per-thread workspaces, so this bounds their memory.
  public static let threads: ClosedRange<Int> = 1...1024
  /// Training batch: activations grow linearly with it (64 px DCGAN, ngf 64: about 12 MB per image).
  public static let trainingBatch: ClosedRange<Int> = 1...4096
  /// Latent width, and G's and D's feature maps: weights grow with their products.
  public static let nz: ClosedRange<Int> = 1...4096
  public static let featureMaps: ClosedRange<Int> = 1...1024
  /// Epochs, iterations and every "every N iterations" period.
  public static let iterations: ClosedRange<Int> = 1...1_000_000_000
  public static let period: ClosedRange<Int> = 0...1_000_000_000
  public static let swdImages: ClosedRange<Int> = 1...65536
  /// Adam's learning rate and beta1 (checked by GanCommandLine.checkFlag, which also refuses nan).
  public static let learningRate: ClosedRange<Float> = 1e-9...1
  public static let beta: ClosedRange<Float> = 0...0.9999
  /// D steps per G step.
  public static let criticSteps: ClosedRange<Int> = 1...100
  /// WGAN-GP's penalty weight, and WGAN's clipping bound.
  public static let penaltyWeight: ClosedRange<Float> = 0...1_000_000
  public static let clip: ClosedRange<Float> = 1e-6...100

  /// `value` if it lies in `range`, else `.usage("--name value: expected lo to hi")`.
  @discardableResult
  public static func check<T: Comparable & CustomStringConvertible>(_ name: String, _ value: T, _ range: ClosedRange<T>) throws(GanError) -> T {
    guard range.contains(value) else {
      throw GanError.usage("--\(name) \(value): expected \(range.lowerBound) to \(range.upperBound)")
    }
    return value
  }
}
