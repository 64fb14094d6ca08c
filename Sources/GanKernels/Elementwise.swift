import CGanKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The streaming element-wise passes. BatchNorm apply and the activation backward passes run the
// kernels' configured C variant (gk_config()->elementwise: AVX2, NEON or scalar); BatchNorm
// backward, Adam and the pixel conversions are Swift SIMD (this target builds with -Ounchecked).
// Shapes are NHWC flattened to (rows, channels): rows = n*h*w, channels innermost. Each pass has a
// scalar C reference (gk_*_ref) that tests compare against and benchmarks race.
// Written with `a * b + c` and `replace(with:where:)`, which compile to plain vector code on the
// x86-64 baseline; `addingProduct` would become a per-lane library call without FMA in the target.

public typealias V16 = SIMD16<Float>

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> V16 {
  UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

@inline(__always)
func store16(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
}

/// BatchNorm2d in training and inference, fused with ReLU / LeakyReLU.
public enum BatchNorm {
  /// From per-channel sums over `rows` (as the GEMM epilogue produced them): the batch mean and
  /// 1/sqrt(var + eps) (biased variance), and PyTorch's running-statistics update (unbiased
  /// variance, momentum). Per channel; a few hundred channels, so scalar.
  public static func statistics(rows: Int, channels: Int, sum: UnsafePointer<Double>,
                                sumOfSquares: UnsafePointer<Double>, eps: Float, momentum: Float,
                                mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                                runningMean: UnsafeMutablePointer<Float>?,
                                runningVar: UnsafeMutablePointer<Float>?) {
    gk_f32_bn_stats_ref(rows, channels, sum, sumOfSquares, eps, momentum, mean, rstd, runningMean,
                        runningVar)
  }

  /// scale = gamma * rstd, shift = beta - mean * scale (per channel).
  public static func foldScaleShift(channels: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                    scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>) {
    for j in 0..<channels {
      let s = gamma[j] * rstd[j]
      scale[j] = s
      shift[j] = beta[j] - mean[j] * s
    }
  }

  /// y (rows, c) = act(x * scale[c] + shift[c]).
  public static func apply(rows: Int, channels c: Int, x: UnsafePointer<Float>,
                           scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                           activation: Activation, y: UnsafeMutablePointer<Float>) {
    gk_f32_bn_apply(rows, c, x, scale, shift, activation.code, activation.slope, y)
  }

  /// Backward of y = act(gamma * (x - mean) * rstd + beta) with batch statistics:
  /// g = dy * act'(y); dbeta = sum g; dgamma = sum g * xhat;
  /// dx = gamma * rstd / M * (M * g - dbeta - xhat * dgamma). dgamma/dbeta are added to when
  /// `accumulate`. `scratch` holds 2 * channels doubles.
  /// Synchronized BatchNorm (data-parallel training): dgamma and dbeta take this batch's sums;
  /// `reduce` then sums the two reductions (scratch, 2 * channels doubles) over the ranks, and dx
  /// uses those with M = `totalRows` (the rows of all ranks).
  public static func backward(rows: Int, channels c: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                              dy: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                              gamma: UnsafePointer<Float>, activation: Activation,
                              dx: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
                              dbeta: UnsafeMutablePointer<Float>, accumulate: Bool,
                              scratch: UnsafeMutablePointer<Double>, totalRows: Int? = nil,
                              reduce: ((UnsafeMutablePointer<Double>, Int) -> Void)? = nil) {
    let sumG = scratch, sumGX = scratch + c
    for j in 0..<(2 * c) { scratch[j] = 0 }
    let vecEnd = c & ~15
    @inline(__always) func gated(_ g: Float, _ yv: Float) -> Float {
      switch activation {
      case .relu: return yv > 0 ? g : 0
      case .leakyRelu(let sl): return yv > 0 ? g : g * sl
      default: return g
      }
    }
    @inline(__always) func gated16(_ g: V16, _ yv: V16) -> V16 {
      var r = g
      switch activation {
      case .relu: r.replace(with: 0, where: yv .<= 0)
      case .leakyRelu(let sl): r.replace(with: r * sl, where: yv .<= 0)
      default: break
      }
      return r
    }
    // Pass 1: two reductions, in float over blocks of rows, then into double.
    let block = 128
    var r0 = 0
    while r0 < rows {
      let r1 = min(rows, r0 + block)
      var j = 0
      while j < vecEnd {
        let m = load16(mean + j), s = load16(rstd + j)
        var ag = V16(repeating: 0), agx = V16(repeating: 0)
        for r in r0..<r1 {
          let o = r * c + j
          let g = gated16(load16(dy + o), load16(y + o))
          let xhat = (load16(x + o) - m) * s
          ag += g
          agx += g * xhat
        }
        for l in 0..<16 {
          sumG[j + l] += Double(ag[l])
          sumGX[j + l] += Double(agx[l])
        }
        j += 16
      }
      while j < c {
        var ag: Float = 0, agx: Float = 0
        for r in r0..<r1 {
          let o = r * c + j
          let g = gated(dy[o], y[o])
          ag += g
          agx += g * ((x[o] - mean[j]) * rstd[j])
        }
        sumG[j] += Double(ag)
        sumGX[j] += Double(agx)
        j += 1
      }
      r0 = r1
    }
    for j in 0..<c {
      dgamma[j] = (accumulate ? dgamma[j] : 0) + Float(sumGX[j])
      dbeta[j] = (accumulate ? dbeta[j] : 0) + Float(sumG[j])
    }
    reduce?(scratch, 2 * c)
    // Pass 2: dx, over the same row blocks with the channel groups outside, so each group's
    // constants are built from the double sums once per block, not once per row.
    let mf = Float(totalRows ?? rows)
    r0 = 0
    while r0 < rows {
      let r1 = min(rows, r0 + block)
      var j = 0
      while j < vecEnd {
        var sgv = V16(), sgxv = V16()
        for l in 0..<16 {
          sgv[l] = Float(sumG[j + l])
          sgxv[l] = Float(sumGX[j + l])
        }
        let rs = load16(rstd + j), m = load16(mean + j)
        let kv = load16(gamma + j) * rs / mf
        for r in r0..<r1 {
          let o = r * c + j
          let g = gated16(load16(dy + o), load16(y + o))
          let xhat = (load16(x + o) - m) * rs
          store16(kv * (mf * g - sgv - xhat * sgxv), dx + o)
        }
        j += 16
      }
      while j < c {
        let k = gamma[j] * rstd[j] / mf, sg = Float(sumG[j]), sgx = Float(sumGX[j])
        for r in r0..<r1 {
          let o = r * c + j
          let xhat = (x[o] - mean[j]) * rstd[j]
          dx[o] = k * (mf * gated(dy[o], y[o]) - sg - xhat * sgx)
        }
        j += 1
      }
      r0 = r1
    }
  }
}

/// Activation backward passes.
public enum ActivationGrad {
  /// dx = dy * (y > 0 ? 1 : slope), from the activation's output y (ReLU: slope 0).
  public static func leakyRelu(count: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, slope: Float,
                               dx: UnsafeMutablePointer<Float>) {
    gk_f32_act_backward(count, y, dy, slope, dx)
  }

  /// dx = dy * (1 - y^2), from tanh's output y.
  public static func tanh(count: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                          dx: UnsafeMutablePointer<Float>) {
    gk_f32_tanh_backward(count, y, dy, dx)
  }
}

/// torch.optim.Adam (no weight decay, no amsgrad) over one flat parameter buffer.
public enum Adam {
  /// One step; `step` is 1-based (PyTorch's state['step'] after the increment).
  public static func step(count: Int, params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                          m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                          lr: Float, beta1: Float, beta2: Float, eps: Float, step: Int) {
    let bc1 = 1 - pow(Double(beta1), Double(step))
    let bc2 = 1 - pow(Double(beta2), Double(step))
    let stepSize = Float(Double(lr) / bc1)
    let bc2Sqrt = Float(bc2.squareRoot())
    let oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2
    let vecEnd = count & ~15
    var i = 0
    while i < vecEnd {
      let g = load16(grads + i)
      var mv = load16(m + i)
      var vv = load16(v + i)
      mv = mv + oneMinusB1 * (g - mv)
      vv = vv * beta2 + oneMinusB2 * g * g
      let denom = vv.squareRoot() / bc2Sqrt + eps
      store16(load16(params + i) - stepSize * (mv / denom), params + i)
      store16(mv, m + i)
      store16(vv, v + i)
      i += 16
    }
    while i < count {
      let g = grads[i]
      m[i] = m[i] + oneMinusB1 * (g - m[i])
      v[i] = v[i] * beta2 + oneMinusB2 * g * g
      let denom = v[i].squareRoot() / bc2Sqrt + eps
      params[i] = params[i] - stepSize * (m[i] / denom)
      i += 1
    }
  }
}

/// uint8 pixels <-> floats in [-1, 1].
public enum PixelConvert {
  /// dst = src / 127.5 - 1
  public static func toFloat(count: Int, src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<Float>) {
    let vecEnd = count & ~15
    let divisor = V16(repeating: 127.5)
    var i = 0
    while i < vecEnd {
      let b = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<UInt8>.self)
      let f = V16(SIMD16<Int32>(truncatingIfNeeded: b))
      store16(f / divisor - 1, dst + i)
      i += 16
    }
    while i < count {
      dst[i] = Float(src[i]) / 127.5 - 1
      i += 1
    }
  }

  /// dst = round(clamp((src + 1) * 127.5, 0, 255))
  public static func toUInt8(count: Int, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<UInt8>) {
    // SIMD16<Int32>(v, rounding:) is converted lane by lane (40x slower, measured); instead round
    // with the 1.5 * 2^23 magic number, whose float bits then hold the integer in the low byte.
    let vecEnd = count & ~15
    let magic = V16(repeating: 12_582_912)
    var i = 0
    while i < vecEnd {
      var v = (load16(src + i) + 1) * 127.5
      v.replace(with: 0, where: v .< 0)
      v.replace(with: 255, where: v .> 255)
      let w = v + 0.5
      var t = (w + magic) - magic  // nearest integer
      t.replace(with: t - 1, where: t .> w)  // floor(w): the reference truncates v + 0.5
      let bits = unsafeBitCast(t + magic, to: SIMD16<UInt32>.self)
      UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: bits), as: SIMD16<UInt8>.self)
      i += 16
    }
    while i < count {
      var v = (src[i] + 1) * 127.5
      v = v < 0 ? 0 : (v > 255 ? 255 : v)
      dst[i] = UInt8(v + 0.5)
      i += 1
    }
  }
}

/// Scalar C references of the streaming passes, exposed for tests and benchmarks.
public enum ElementwiseReference {
  public static func bnApply(rows: Int, channels: Int, x: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                             shift: UnsafePointer<Float>, activation: Activation, y: UnsafeMutablePointer<Float>) {
    gk_f32_bn_apply_ref(rows, channels, x, scale, shift, activation.code, activation.slope, y)
  }
  public static func bnBackward(rows: Int, channels: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                dy: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                gamma: UnsafePointer<Float>, activation: Activation,
                                dx: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
                                dbeta: UnsafeMutablePointer<Float>, accumulate: Bool) {
    gk_f32_bn_backward_ref(rows, channels, x, y, dy, mean, rstd, gamma, activation.code, activation.slope,
                           dx, dgamma, dbeta, accumulate ? 1 : 0)
  }
  public static func leakyReluBackward(count: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                       slope: Float, dx: UnsafeMutablePointer<Float>) {
    gk_f32_act_backward_ref(count, y, dy, slope, dx)
  }
  public static func tanhBackward(count: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                  dx: UnsafeMutablePointer<Float>) {
    gk_f32_tanh_backward_ref(count, y, dy, dx)
  }
  public static func tanh(count: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    gk_f32_tanh_ref(count, x, y)
  }
  public static func adam(count: Int, params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>,
                          m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, lr: Float,
                          beta1: Float, beta2: Float, eps: Float, step: Int) {
    gk_f32_adam_ref(count, params, grads, m, v, lr, beta1, beta2, eps, Int64(step))
  }
  public static func toFloat(count: Int, src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<Float>) {
    gk_u8_to_f32_ref(count, src, dst)
  }
  public static func toUInt8(count: Int, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<UInt8>) {
    gk_f32_to_u8_ref(count, src, dst)
  }
  public static func bceWithLogits(_ logits: UnsafePointer<Float>, count: Int, target: Float,
                                   gradient: UnsafeMutablePointer<Float>?) -> Double {
    gk_f32_bce_logits_ref(count, logits, target, gradient, 1)
  }
  /// The GEMM epilogue's vectorizable tanh.
  public static func epilogueTanh(_ x: Float) -> Float { gk_tanhf(x) }
}
