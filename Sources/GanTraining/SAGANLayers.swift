import GanKernels
import GanModel

/// torch.nn.utils.spectral_norm on one weight W (a parameter): every forward writes
/// W_sn = W / sigma(W) into its own buffer, after one power iteration in training mode (u and v,
/// buffers of the parameter set, updated in place); the backward pass turns d(loss)/d(W_sn) into
/// d(loss)/d(W) with the u, v and sigma of the last forward. Views into the owning network's
/// arena and parameter set.
struct SpectralNormLayer {
  let matrix: SpectralMatrix
  let count: Int
  let weight: UnsafeMutablePointer<Float>
  let gradient: UnsafeMutablePointer<Float>
  let u: UnsafeMutablePointer<Float>
  let v: UnsafeMutablePointer<Float>
  /// W / sigma, laid out like W: what the layer's kernels use.
  let normalized: UnsafeMutablePointer<Float>
  /// d(loss)/d(W_sn): the layer's weight-gradient kernel writes here (the network's shared scratch).
  let normalizedGradient: UnsafeMutablePointer<Float>
  private let scratch: UnsafeMutablePointer<Float>
  /// sigma of the last forward (one float in the arena).
  private let sigmaCell: UnsafeMutablePointer<Float>
  static let eps: Float = 1e-12

  init(_ spec: SpectralNormSpec, params: ParameterSet, arena: Arena, gradientScratch: UnsafeMutablePointer<Float>) {
    matrix = spec.matrix
    count = params.spec.parameter(named: spec.weight)!.count
    weight = params.value(spec.weight)
    gradient = params.gradient(spec.weight)
    u = params.buffer(spec.u)
    v = params.buffer(spec.v)
    normalized = arena.floats(count)
    normalizedGradient = gradientScratch
    scratch = arena.floats(spec.matrix.rows)
    sigmaCell = arena.floats(1)
  }

  var sigma: Float { sigmaCell.pointee }

  /// W_sn = W / sigma; powerIteration: first v = normalize(W^T u), u = normalize(W v) (training mode).
  func forward(powerIteration: Bool) {
    sigmaCell.pointee = SpectralNorm.sigma(matrix, w: weight, u: u, v: v, update: powerIteration, eps: Self.eps,
                                           scratch: scratch, normalized: normalized)
  }

  /// dW (+)= from `normalizedGradient`.
  func backward(accumulate: Bool) {
    SpectralNorm.backward(matrix, w: weight, u: u, v: v, sigma: sigmaCell.pointee, dNormalized: normalizedGradient,
                          dw: gradient, accumulate: accumulate)
  }
}

/// How a backward pass treats parameter gradients.
enum ParameterGradientMode { case overwrite, accumulate, discard }

/// The SAGAN self-attention block (Zhang et al. 2018) over a batch of NHWC maps x (batch, P, C):
/// q = x Wq^T + bq, k = x Wk^T + bk (C/8 wide), v = x Wv^T + bv (C wide), spectral norm on the
/// three 1x1 weights; o = softmax_rows(q k^T) v per image; output = gamma * o + x.
struct AttentionLayer {
  let shape: AttentionShape
  let layer: Int
  /// query, key, value.
  let weights: [SpectralNormLayer]
  let biases: [UnsafeMutablePointer<Float>]
  let biasGradients: [UnsafeMutablePointer<Float>]
  let gamma: UnsafeMutablePointer<Float>
  let gammaGradient: UnsafeMutablePointer<Float>
  /// q, k, v and o (batch * P rows), the attention map (batch x P x P), the block's output.
  let projections: [UnsafeMutablePointer<Float>]
  let map: UnsafeMutablePointer<Float>
  let attended: UnsafeMutablePointer<Float>
  let output: UnsafeMutablePointer<Float>
  /// Backward: dq, dk, dv, d(q k^T), gamma * dy.
  let projectionGradients: [UnsafeMutablePointer<Float>]
  let mapGradient: UnsafeMutablePointer<Float>
  let scaledGradient: UnsafeMutablePointer<Float>
  let workspace: UnsafeMutableRawPointer
  let threads: Int
  /// For the double backward (a WGAN-GP critic; nil otherwise): the first backward's dy, the
  /// adjoints of dQ, dK, dV and of q, k, v, and of dO.
  let upstream: UnsafeMutablePointer<Float>?
  let adjointProjectionGradients: [UnsafeMutablePointer<Float>]
  let adjointProjections: [UnsafeMutablePointer<Float>]
  let adjointScaledGradient: UnsafeMutablePointer<Float>?

  var rows: Int { shape.batch * shape.positions }
  var channels: Int { shape.valueChannels }
  var elements: Int { rows * channels }
  func width(_ part: Int) -> Int { part == 2 ? shape.valueChannels : shape.keyChannels }

  /// The workspace `forward` and `backward` need (the network's shared workspace must hold it).
  static func workspaceBytes(_ s: AttentionShape, threads: Int, doubleBackward: Bool = false) -> Int {
    let rows = s.batch * s.positions, c = s.valueChannels
    return max(SelfAttention.workspaceBytes(s, threads: threads),
               Gemm.workspaceBytes(m: rows, n: c, k: c, threads: threads),
               Gemm.workspaceBytes(m: c, n: c, k: rows, threads: threads),
               doubleBackward ? AttentionDoubleBackward.workspaceBytes(s, threads: threads) : 0)
  }

  init(_ spec: AttentionSpec, batch: Int, positions: Int, params: ParameterSet, arena a: Arena,
       gradientScratch: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer, threads: Int,
       doubleBackward: Bool = false) {
    shape = AttentionShape(batch: batch, positions: positions, keyChannels: spec.keyChannels,
                           valueChannels: spec.channels)
    layer = spec.layer
    self.threads = threads
    self.workspace = workspace
    let norms = params.spec.spectralNorms
    weights = AttentionSpec.parts.map { p in
      SpectralNormLayer(norms.first { $0.weight == spec.weight(p) }!, params: params, arena: a,
                        gradientScratch: gradientScratch)
    }
    biases = AttentionSpec.parts.map { params.value(spec.bias($0)) }
    biasGradients = AttentionSpec.parts.map { params.gradient(spec.bias($0)) }
    gamma = params.value(spec.gamma)
    gammaGradient = params.gradient(spec.gamma)
    let rows = batch * positions, c = spec.channels, cq = spec.keyChannels
    let widths = [cq, cq, c]
    projections = widths.map { a.floats(rows * $0) }
    map = a.floats(batch * positions * positions)
    attended = a.floats(rows * c)
    output = a.floats(rows * c)
    projectionGradients = widths.map { a.floats(rows * $0) }
    mapGradient = a.floats(batch * positions * positions)
    scaledGradient = a.floats(rows * c)
    upstream = doubleBackward ? a.floats(rows * c) : nil
    adjointProjectionGradients = doubleBackward ? widths.map { a.floats(rows * $0) } : []
    adjointProjections = doubleBackward ? widths.map { a.floats(rows * $0) } : []
    adjointScaledGradient = doubleBackward ? a.floats(rows * c) : nil
  }

  /// output = gamma * attention(x) + x; spectral norm's power iteration when `powerIteration`.
  func forward(_ x: UnsafePointer<Float>, powerIteration: Bool) {
    for p in 0..<3 {
      weights[p].forward(powerIteration: powerIteration)
      Gemm.run(m: rows, n: width(p), k: channels, a: x, b: weights[p].normalized, transposeB: true,
               c: projections[p], epilogue: Epilogue(bias: biases[p]), workspace: workspace, threads: threads)
    }
    SelfAttention.forward(shape, q: projections[0], k: projections[1], v: projections[2], attn: map, o: attended,
                          workspace: workspace, threads: threads)
    AttentionPasses.scaleAdd(count: elements, alpha: gamma.pointee, x: attended, y: x, out: output)
  }

  /// From dy = d(loss)/d(output), dx = d(loss)/d(x) (dx must not alias dy), and the parameter
  /// gradients per `mode`.
  /// keepUpstream: also keep dy for `doubleBackward` (which then also reads this pass's q, k, v,
  /// map, dS, dQ, dK, dV and gamma * dy: nothing may run the block in between).
  func backward(_ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                mode: ParameterGradientMode, keepUpstream: Bool = false) {
    if keepUpstream, let u = upstream { u.update(from: dy, count: elements) }
    if mode != .discard {
      let g = Float(AttentionPasses.dot(count: elements, dy, attended))
      gammaGradient.pointee = (mode == .accumulate ? gammaGradient.pointee : 0) + g
    }
    AttentionPasses.scaleAdd(count: elements, alpha: gamma.pointee, x: dy, y: nil, out: scaledGradient)
    SelfAttention.backward(shape, q: projections[0], k: projections[1], v: projections[2], attn: map,
                           dout: scaledGradient, ds: mapGradient, dq: projectionGradients[0],
                           dk: projectionGradients[1], dv: projectionGradients[2], workspace: workspace,
                           threads: threads)
    dx.update(from: dy, count: elements)
    for p in 0..<3 {
      let dp = projectionGradients[p]
      if mode != .discard {
        // d(W_sn) = dp^T x (width x C), then through the spectral norm; d(bias) = column sums of dp.
        Gemm.run(m: width(p), n: channels, k: rows, a: dp, transposeA: true, b: x, c: weights[p].normalizedGradient,
                 workspace: workspace, threads: threads)
        weights[p].backward(accumulate: mode == .accumulate)
        AttentionPasses.columnSums(rows: rows, columns: width(p), x: dp, out: biasGradients[p],
                                   accumulate: mode == .accumulate)
      }
      Gemm.run(m: rows, n: channels, k: width(p), a: dp, b: weights[p].normalized, c: dx,
               epilogue: Epilogue(accumulate: true), workspace: workspace, threads: threads)
    }
  }

  /// The double backward (WGAN-GP's penalty gradient): the last `backward` (keepUpstream) mapped
  /// (x, dy, the weights) to dx; given the adjoint `adjointDx` of that dx, writes the adjoints of
  /// its dy (`adjointDy`) and of its x (`adjointX`: through q, k, v of the forward; the caller
  /// backpropagates it through the layers below), and adds the parameters' (weights through
  /// spectral norm, biases, gamma) to their gradients unless `mode` is .discard.
  func doubleBackward(_ x: UnsafePointer<Float>, adjointDx: UnsafePointer<Float>,
                      adjointDy: UnsafeMutablePointer<Float>, adjointX: UnsafeMutablePointer<Float>,
                      mode: ParameterGradientMode) {
    guard let dy = upstream, let gdo = adjointScaledGradient else {
      preconditionFailure("AttentionLayer.doubleBackward without doubleBackward buffers")
    }
    let gd = adjointProjectionGradients, gp = adjointProjections
    // dx = dy + sum_p dP W_p: the adjoints of dP (and, below, of W_p through this use).
    for p in 0..<3 {
      Gemm.run(m: rows, n: width(p), k: channels, a: adjointDx, b: weights[p].normalized, transposeB: true, c: gd[p],
               workspace: workspace, threads: threads)
    }
    AttentionDoubleBackward.run(shape, q: projections[0], k: projections[1], v: projections[2], attn: map,
                                dout: scaledGradient, ds: mapGradient, gdq: gd[0], gdk: gd[1], gdv: gd[2], gq: gp[0],
                                gk: gp[1], gv: gp[2], gdout: gdo, workspace: workspace, threads: threads)
    // dO = gamma * dy.
    AttentionPasses.scaleAdd(count: elements, alpha: gamma.pointee, x: gdo, y: adjointDx, out: adjointDy)
    if mode != .discard {
      gammaGradient.pointee += Float(AttentionPasses.dot(count: elements, gdo, dy))
    }
    // q = x Wq^T + bq (k, v alike): the adjoint of x, and of W_p through both uses and of b_p.
    for p in 0..<3 {
      Gemm.run(m: rows, n: channels, k: width(p), a: gp[p], b: weights[p].normalized, c: adjointX,
               epilogue: Epilogue(accumulate: p > 0), workspace: workspace, threads: threads)
      guard mode != .discard else { continue }
      Gemm.run(m: width(p), n: channels, k: rows, a: projectionGradients[p], transposeA: true, b: adjointDx,
               c: weights[p].normalizedGradient, workspace: workspace, threads: threads)
      Gemm.run(m: width(p), n: channels, k: rows, a: gp[p], transposeA: true, b: x, c: weights[p].normalizedGradient,
               epilogue: Epilogue(accumulate: true), workspace: workspace, threads: threads)
      weights[p].backward(accumulate: true)
      AttentionPasses.columnSums(rows: rows, columns: width(p), x: gp[p], out: biasGradients[p], accumulate: true)
    }
  }
}
