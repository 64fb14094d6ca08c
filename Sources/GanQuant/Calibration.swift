/// How an activation's clipping threshold is chosen from its calibration histogram.
public enum CalibrationMethod: String, CaseIterable, Sendable {
  /// The largest value seen.
  case minmax
  /// The given percentile of all values (zeros included).
  case percentile
  /// The threshold minimizing the expected squared quantization error (clipping plus rounding).
  case mse
}

/// A histogram of |x| over [0, maximum] with exact zeros counted apart (post-ReLU activations are
/// about half zeros, which quantize without error).
public struct ActivationHistogram: Sendable {
  public static let binCount = 2048
  public private(set) var maximum: Float
  public private(set) var bins: [Double]
  public private(set) var zeros: Double = 0

  public init(maximum: Float) {
    self.maximum = maximum
    bins = [Double](repeating: 0, count: ActivationHistogram.binCount)
  }

  public var total: Double { bins.reduce(zeros, +) }

  public mutating func add(_ x: UnsafePointer<Float>, count: Int) {
    guard maximum > 0 else { zeros += Double(count); return }
    let scale = Float(ActivationHistogram.binCount) / maximum, top = ActivationHistogram.binCount - 1
    bins.withUnsafeMutableBufferPointer { b in
      for i in 0..<count {
        let v = abs(x[i])
        if v == 0 { zeros += 1; continue }
        b[min(Int(v * scale), top)] += 1
      }
    }
  }

  /// The clipping threshold T for codes 0...qmax (scale = T / qmax).
  public func threshold(method: CalibrationMethod, percentile: Double, qmax: Int) -> Float {
    guard maximum > 0 else { return 1 }
    let width = Double(maximum) / Double(ActivationHistogram.binCount)
    switch method {
    case .minmax:
      return maximum
    case .percentile:
      let target = total * percentile / 100
      var seen = zeros
      if seen >= target { return Float(width) }
      for (i, c) in bins.enumerated() {
        seen += c
        if seen >= target { return Float(Double(i + 1) * width) }
      }
      return maximum
    case .mse:
      // Bin centres stand for their values; candidates from 1/16 of the maximum up to it.
      var best = Double.infinity, bestT = Double(maximum)
      let first = ActivationHistogram.binCount / 16
      for j in stride(from: first, through: ActivationHistogram.binCount, by: 8) {
        let t = Double(j) * width, step = t / Double(qmax)
        var err = 0.0
        for (i, c) in bins.enumerated() where c > 0 {
          let v = (Double(i) + 0.5) * width
          if v >= t {
            err += c * (v - t) * (v - t)
          } else {
            let d = v - (v / step).rounded() * step
            err += c * d * d
          }
        }
        if err < best { best = err; bestT = t }
      }
      return Float(bestT)
    }
  }
}

/// Symmetric per-output-channel int8 weights of a (cin, cout, 4, 4) tensor: scale[co] =
/// max |w[:, co]| / 127 (1 for an all-zero channel), code = round(w / scale) in [-127, 127].
public func quantizeWeightsPerOutputChannel(_ w: [Float], inChannels: Int, outChannels: Int) -> (codes: [Int8],
    scales: [Float]) {
  var maxAbs = [Float](repeating: 0, count: outChannels)
  for ci in 0..<inChannels {
    for co in 0..<outChannels {
      for k in 0..<16 { maxAbs[co] = max(maxAbs[co], abs(w[(ci * outChannels + co) * 16 + k])) }
    }
  }
  let scales = maxAbs.map { $0 > 0 ? $0 / 127 : 1 }
  var codes = [Int8](repeating: 0, count: w.count)
  for ci in 0..<inChannels {
    for co in 0..<outChannels {
      for k in 0..<16 {
        let e = (ci * outChannels + co) * 16 + k
        codes[e] = Int8(max(-127, min(127, (w[e] / scales[co]).rounded(.toNearestOrEven))))
      }
    }
  }
  return (codes, scales)
}
