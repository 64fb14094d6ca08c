import GanKernels
import GanModel

/// BatchNorm2d fused with its activation, over (rows = n*h*w, channels) NHWC activations; or
/// conditional BatchNorm (no affine, then per-class gain and bias, `classes` > 0; the images'
/// classes in `labels`). Views into the owning network's arena and parameter set; no allocation
/// after construction. With a communicator of several ranks it is synchronized BatchNorm: the
/// forward statistics and the backward's two reductions are summed over the ranks, so N ranks
/// normalize with the whole batch's statistics as one process would.
struct BatchNormLayer {
  let rows: Int
  let channels: Int
  let activation: Activation
  /// gamma and beta (channels), or the gain and bias tables (classes x channels).
  let gamma: UnsafeMutablePointer<Float>
  let beta: UnsafeMutablePointer<Float>
  let dgamma: UnsafeMutablePointer<Float>
  let dbeta: UnsafeMutablePointer<Float>
  /// 0: affine BatchNorm; else conditional with this many classes.
  let classes: Int
  /// Images in the batch, and each image's class (conditional only).
  let images: Int
  let labels: UnsafePointer<Int32>?
  let runningMean: UnsafeMutablePointer<Float>
  let runningVar: UnsafeMutablePointer<Float>
  /// Column sums and sums of squares filled by the producing GEMM's epilogue.
  let sum: UnsafeMutablePointer<Double>
  let sumOfSquares: UnsafeMutablePointer<Double>
  let mean: UnsafeMutablePointer<Float>
  let rstd: UnsafeMutablePointer<Float>
  /// Per channel (affine), or per image and channel (conditional).
  let scale: UnsafeMutablePointer<Float>
  let shift: UnsafeMutablePointer<Float>
  let scratch: UnsafeMutablePointer<Double>
  /// The ranks whose batches together form the batch (nil: this process alone), and the sum over
  /// them that the backward pass calls between its two passes (made once: no allocation per call).
  let communicator: Communicator?
  let reduceSums: ((UnsafeMutablePointer<Double>, Int) -> Void)?
  /// Where dgamma / dbeta go when the caller does not want parameter gradients.
  let discardGamma: UnsafeMutablePointer<Float>
  let discardBeta: UnsafeMutablePointer<Float>

  static let eps: Float = 1e-5
  static let momentum: Float = 0.1

  /// images, labels: the batch and its classes, for conditional BatchNorm (names.conditional).
  init(rows: Int, channels: Int, activation: Activation, arena: Arena, params: ParameterSet, names: BatchNormNames,
       positions: Int = 1, images: Int = 1, classes: Int = 0, labels: UnsafePointer<Int32>? = nil,
       communicator: Communicator? = nil) {
    precondition(!names.conditional || (classes > 0 && labels != nil && rows % images == 0))
    self.rows = rows
    self.channels = channels
    self.activation = activation
    self.classes = names.conditional ? classes : 0
    self.images = images
    self.labels = labels
    gamma = params.value(names.gain)
    beta = params.value(names.bias)
    dgamma = params.gradient(names.gain)
    dbeta = params.gradient(names.bias)
    runningMean = params.buffer(names.runningMean)
    runningVar = params.buffer(names.runningVar)
    // Sums and sums of squares side by side: one reduction over the ranks.
    sum = arena.doubles(2 * channels)
    sumOfSquares = sum + channels
    let synchronized = communicator.flatMap { $0.size > 1 ? $0 : nil }
    self.communicator = synchronized
    reduceSums = synchronized.map { c in { (p: UnsafeMutablePointer<Double>, n: Int) in c.sum(p, count: n) } }
    mean = arena.floats(channels)
    rstd = arena.floats(channels)
    let perImage = names.conditional ? images : 1, tables = names.conditional ? classes : 1
    scale = arena.floats(perImage * channels)
    shift = arena.floats(perImage * channels)
    scratch = arena.doubles(names.conditional ? (2 * images + 2) * channels : 2 * channels)
    discardGamma = arena.floats(tables * channels)
    discardBeta = arena.floats(tables * channels)
    self.positions = positions
    positionSum = positions > 1 ? arena.doubles(positions * channels) : nil
    positionSumOfSquares = positions > 1 ? arena.doubles(positions * channels) : nil
  }

  /// Sums the per-(position, channel) statistics into per-channel ones, positions in order.
  func foldPositions() {
    guard let ps = positionSum, let pq = positionSumOfSquares else { return }
    for j in 0..<channels {
      var s = 0.0, q = 0.0
      for p in 0..<positions {
        s += ps[p * channels + j]
        q += pq[p * channels + j]
      }
      sum[j] = s
      sumOfSquares[j] = q
    }
  }

  /// For a producer whose GEMM columns are (position, channel), e.g. the generator's projection
  /// with columns (ky, kx, c): per-column sums of `positions * channels` columns.
  let positionSum: UnsafeMutablePointer<Double>?
  let positionSumOfSquares: UnsafeMutablePointer<Double>?
  let positions: Int

  /// The epilogue that makes the producing GEMM fill the statistics; call `foldPositions` after.
  func statisticsEpilogue() -> Epilogue {
    if let ps = positionSum, let pq = positionSumOfSquares {
      ps.update(repeating: 0, count: positions * channels)
      pq.update(repeating: 0, count: positions * channels)
      return Epilogue(statistics: (ps, pq))
    }
    sum.update(repeating: 0, count: channels)
    sumOfSquares.update(repeating: 0, count: channels)
    return Epilogue(statistics: (sum, sumOfSquares))
  }

  /// y = act(BN(x)) after the GEMM epilogue has produced the sums.
  func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, mode: NormalizationMode) {
    if case .eval = mode {} else {
      foldPositions()
      communicator?.sum(sum, count: 2 * channels)
    }
    // Synchronized: the statistics of every rank's rows (equal batches on every rank).
    let rows = self.rows * (communicator?.size ?? 1)
    switch mode {
    case .train:
      BatchNorm.statistics(rows: rows, channels: channels, sum: sum, sumOfSquares: sumOfSquares,
                           eps: Self.eps, momentum: Self.momentum, mean: mean, rstd: rstd,
                           runningMean: runningMean, runningVar: runningVar)
    case .accumulate(let m):
      BatchNorm.statistics(rows: rows, channels: channels, sum: sum, sumOfSquares: sumOfSquares,
                           eps: Self.eps, momentum: m, mean: mean, rstd: rstd,
                           runningMean: runningMean, runningVar: runningVar)
    case .batchStatistics:
      BatchNorm.statistics(rows: rows, channels: channels, sum: sum, sumOfSquares: sumOfSquares,
                           eps: Self.eps, momentum: Self.momentum, mean: mean, rstd: rstd,
                           runningMean: nil, runningVar: nil)
    case .eval:
      for j in 0..<channels {
        mean[j] = runningMean[j]
        rstd[j] = 1 / (runningVar[j] + Self.eps).squareRoot()
      }
    }
    if classes > 0, let labels {
      ConditionalBatchNorm.scaleShift(images: images, channels: channels, labels: labels, gain: gamma, bias: beta,
                                      mean: mean, rstd: rstd, scale: scale, shift: shift)
      ConditionalBatchNorm.apply(images: images, rowsPerImage: self.rows / images, channels: channels, x: x,
                                 scale: scale, shift: shift, rows: nil, activation: activation, y: y)
      return
    }
    BatchNorm.foldScaleShift(channels: channels, gamma: gamma, beta: beta, mean: mean, rstd: rstd,
                             scale: scale, shift: shift)
    BatchNorm.apply(rows: self.rows, channels: channels, x: x, scale: scale, shift: shift,
                    activation: activation, y: y)
  }


  /// dx from dy (gradient at the activation output).
  func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                dx: UnsafeMutablePointer<Float>, parameterGradients: ParameterGradientMode) {
    let discard = parameterGradients == .discard
    let totalRows = rows * (communicator?.size ?? 1)
    if classes > 0, let labels {
      let perImage = rows / images
      ConditionalBatchNorm.backwardSums(images: images, rowsPerImage: perImage, channels: channels, classes: classes,
                                        labels: labels, x: x, y: y, dy: dy, mean: mean, rstd: rstd, gain: gamma,
                                        activation: activation, dgain: discard ? discardGamma : dgamma,
                                        dbias: discard ? discardBeta : dbeta,
                                        accumulate: parameterGradients == .accumulate, scratch: scratch)
      communicator?.sum(scratch + ConditionalBatchNorm.sumsOffset(images: images, channels: channels),
                        count: 2 * channels)
      ConditionalBatchNorm.backwardData(images: images, rowsPerImage: perImage, totalRows: totalRows, channels: channels,
                                        labels: labels, x: x, y: y, dy: dy, mean: mean, rstd: rstd, gain: gamma,
                                        activation: activation, dx: dx, scratch: scratch)
      return
    }
    BatchNorm.backward(rows: rows, channels: channels, x: x, y: y, dy: dy, mean: mean, rstd: rstd,
                       gamma: gamma, activation: activation, dx: dx,
                       dgamma: discard ? discardGamma : dgamma, dbeta: discard ? discardBeta : dbeta,
                       accumulate: parameterGradients == .accumulate, scratch: scratch, totalRows: totalRows,
                       reduce: reduceSums)
  }
}
