import CGanKernels
import CGanSystem

/// The kernel library as Swift sees it: CPU features, GEMM variants and the layer kernels
/// (thin wrappers over CGanKernels: sizes checked once, pointers in).
public enum Kernels {
  /// Features probed at start-up, e.g. "x86_64 avx2 fma avx512f avx512vnni".
  public static var cpuFeatures: String { String(cString: gk_cpu_features()) }

  /// A compiled GEMM micro-kernel.
  public struct GemmVariant: Sendable {
    public let index: Int32
    public let name: String
    public let mr: Int
    public let nr: Int
    public let available: Bool
  }

  public static var gemmVariants: [GemmVariant] {
    (0..<gk_gemm_variant_count()).map { i in
      let v = gk_gemm_variant_at(i)!.pointee
      return GemmVariant(index: i, name: String(cString: v.name), mr: Int(v.mr), nr: Int(v.nr),
                         available: v.available != 0)
    }
  }

  /// The variant in use (the best available unless forced).
  public static var selectedGemmVariant: GemmVariant {
    gemmVariants[Int(gk_gemm_selected_variant())]
  }

  /// Forces a GEMM variant (tests and benchmarks); nil restores the automatic choice.
  public static func forceGemmVariant(_ index: Int32?) { gk_gemm_force_variant(index ?? -1) }

  /// All cores the process may use.
  public static var defaultThreads: Int {
    let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    return n > 0 ? n : 1
  }
}


/// Activation applied in a GEMM epilogue or a BatchNorm pass.
public enum Activation: Sendable, Equatable {
  case none, relu, leakyRelu(Float), tanh

  var code: Int32 {
    switch self {
    case .none: return Int32(GK_ACT_NONE)
    case .relu: return Int32(GK_ACT_RELU)
    case .leakyRelu: return Int32(GK_ACT_LRELU)
    case .tanh: return Int32(GK_ACT_TANH)
    }
  }

  var slope: Float {
    if case .leakyRelu(let s) = self { return s }
    return 0
  }
}

/// What the GEMM does to each output after the reduction: accumulate into the old value, add bias,
/// apply the activation, and add per-channel sums and sums of squares into `statistics`.
public struct Epilogue {
  public var accumulate: Bool
  public var bias: UnsafePointer<Float>?
  public var activation: Activation
  public var statistics: (sum: UnsafeMutablePointer<Double>, sumOfSquares: UnsafeMutablePointer<Double>)?
  /// Also write each output as a uint8 pixel, round(clamp((v + 1) * 127.5)), at the same offset.
  public var pixels: UnsafeMutablePointer<UInt8>?

  public init(accumulate: Bool = false, bias: UnsafePointer<Float>? = nil,
              activation: Activation = .none,
              statistics: (sum: UnsafeMutablePointer<Double>, sumOfSquares: UnsafeMutablePointer<Double>)? = nil,
              pixels: UnsafeMutablePointer<UInt8>? = nil) {
    self.accumulate = accumulate
    self.bias = bias
    self.activation = activation
    self.statistics = statistics
    self.pixels = pixels
  }

  public static let plain = Epilogue()

  func withC<R>(_ body: (UnsafePointer<gk_epilogue>) -> R) -> R {
    var ep = gk_epilogue()
    ep.accumulate = accumulate ? 1 : 0
    ep.bias = bias
    ep.act = activation.code
    ep.slope = activation.slope
    ep.col_sum = statistics?.sum
    ep.col_sumsq = statistics?.sumOfSquares
    ep.u8 = pixels
    return withUnsafePointer(to: &ep) { body($0) }
  }
}
