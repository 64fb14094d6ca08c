/// Fidelity of int8 output against fp32, on images in [-1, 1] (NHWC).
public enum ImageMetrics {
  /// Signal-to-quantization-noise ratio in dB from accumulated sums: 10 log10(sum ref^2 / sum err^2).
  public static func sqnr(signal: Double, noise: Double) -> Double {
    noise > 0 ? 10 * log10(signal / noise) : .infinity
  }

  /// PSNR in dB for images in [-1, 1] (peak-to-peak 2, the same as [0, 1] images with peak 1).
  public static func psnr(meanSquaredError mse: Double) -> Double {
    mse > 0 ? 10 * log10(4 / mse) : .infinity
  }

  /// Mean SSIM (Wang et al. 2004) of two images in [-1, 1], NHWC with one image: each channel
  /// mapped to [0, 1], an 11x11 Gaussian window (sigma 1.5) over the valid region, C1 = 0.01^2,
  /// C2 = 0.03^2, averaged over positions and channels.
  public static func ssim(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, size: Int, channels: Int) -> Double {
    let r = 5, win = 2 * r + 1
    var g = (0..<win).map { i -> Double in let d = Double(i - r); return exp(-d * d / (2 * 1.5 * 1.5)) }
    let gs = g.reduce(0, +)
    g = g.map { $0 / gs }
    let out = size - 2 * r
    guard out > 0 else { return 1 }
    let c1 = 0.0001, c2 = 0.0009
    var total = 0.0
    // Five filtered planes (mu_a, mu_b, E[a^2], E[b^2], E[ab]): separable, rows then columns.
    var rows = [Double](repeating: 0, count: 5 * size * out)
    for c in 0..<channels {
      for y in 0..<size {
        for x in 0..<out {
          var s = (0.0, 0.0, 0.0, 0.0, 0.0)
          for k in 0..<win {
            let idx = (y * size + x + k) * channels + c
            let va = (Double(a[idx]) + 1) / 2, vb = (Double(b[idx]) + 1) / 2, w = g[k]
            s.0 += w * va; s.1 += w * vb; s.2 += w * va * va; s.3 += w * vb * vb; s.4 += w * va * vb
          }
          let o = y * out + x, plane = size * out
          rows[o] = s.0; rows[plane + o] = s.1; rows[2 * plane + o] = s.2; rows[3 * plane + o] = s.3; rows[4 * plane + o] = s.4
        }
      }
      let plane = size * out
      for y in 0..<out {
        for x in 0..<out {
          var s = (0.0, 0.0, 0.0, 0.0, 0.0)
          for k in 0..<win {
            let o = (y + k) * out + x, w = g[k]
            s.0 += w * rows[o]; s.1 += w * rows[plane + o]; s.2 += w * rows[2 * plane + o]
            s.3 += w * rows[3 * plane + o]; s.4 += w * rows[4 * plane + o]
          }
          let va = s.2 - s.0 * s.0, vb = s.3 - s.1 * s.1, cov = s.4 - s.0 * s.1
          total += (2 * s.0 * s.1 + c1) * (2 * cov + c2) / ((s.0 * s.0 + s.1 * s.1 + c1) * (va + vb + c2))
        }
      }
    }
    return total / Double(out * out * channels)
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
