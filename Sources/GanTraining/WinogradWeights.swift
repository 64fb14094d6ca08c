import GanKernels

/// One pass of a training network that runs as Winograd, and the transform of the layer's KKIO
/// weights (16 x inChannels x outChannels) it needs.
struct WinogradPass {
  enum Kind: Int, CaseIterable {
    /// G: ConvTranspose2d(4, 2, 1) forward.
    case deconvolutionForward
    /// D: Conv2d(4, 2, 1) forward on the space-to-depth grid.
    case convolutionForward
    /// D: Conv2d(4, 2, 1) backward-data, a transposed convolution outChannels -> inChannels.
    case convolutionBackwardData
  }
  let layer: Int
  let kind: Kind
  let tile: Int
  let inChannels: Int
  let outChannels: Int

  /// Per layer, the tile this kind of pass runs with where the layer has one (`shape` non-nil:
  /// the convolution as it runs, for backward-data the transposed convolution): `chosen[i]` when
  /// given and non-zero (it must fit), else the training table's when `winograd`, else 0.
  static func tiles(_ kind: Kind, layerCount: Int, shape: (Int) -> ConvShape?, chosen: [Int]?,
                    winograd: Bool) -> [Int] {
    (0..<layerCount).map { i in
      guard let s = shape(i) else { return 0 }
      if let chosen, i < chosen.count, chosen[i] != 0 {
        let fits = kind == .convolutionForward ? WinogradConv4s2.supports(tile: chosen[i], s)
                                               : WinogradDeconv4s2.supports(tile: chosen[i], s)
        precondition(fits, "Winograd tile \(chosen[i]) does not fit layer \(i) (\(s))")
        return chosen[i]
      }
      guard winograd else { return 0 }
      switch kind {
      case .deconvolutionForward:
        return AlgorithmPolicy.trainingDeconvolutionTile(batch: s.batch, height: s.height, inChannels: s.inChannels,
                                                           outChannels: s.outChannels)
      case .convolutionForward:
        return AlgorithmPolicy.trainingConvolutionTile(height: s.height, inChannels: s.inChannels,
                                                       outChannels: s.outChannels)
      case .convolutionBackwardData:
        return AlgorithmPolicy.trainingBackwardDataTile(height: s.height, inChannels: s.inChannels,
                                                        outChannels: s.outChannels)
      }
    }
  }

  var packedCount: Int {
    switch kind {
    case .deconvolutionForward:
      return WinogradDeconv4s2.packedCount(tile: tile, inChannels: inChannels, outChannels: outChannels)
    case .convolutionForward:
      return WinogradConv4s2.packedCount(tile: tile, inChannels: inChannels, outChannels: outChannels)
    case .convolutionBackwardData:
      return WinogradDeconv4s2.packedCount(tile: tile, inChannels: outChannels, outChannels: inChannels)
    }
  }

  func pack(weights: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>, threads: Int) {
    switch kind {
    case .deconvolutionForward:
      WinogradDeconv4s2.packWeights(tile: tile, inChannels: inChannels, outChannels: outChannels, weights: weights,
                                    into: packed, threads: threads)
    case .convolutionForward:
      WinogradConv4s2.packWeights(tile: tile, inChannels: inChannels, outChannels: outChannels, weights: weights,
                                  into: packed, threads: threads)
    case .convolutionBackwardData:
      WinogradDeconv4s2.packWeights(tile: tile, inChannels: outChannels, outChannels: inChannels, weights: weights,
                                    transposed: true, into: packed, threads: threads)
    }
  }
}

/// The transformed, packed weights of a network's Winograd passes, carved from the network's
/// arena and re-derived when `parameters.generation` moves: once per optimizer step or load.
final class WinogradWeights {
  let passes: [WinogradPass]
  /// [kind][layer]: the packed transform, nil where that pass runs the direct kernel.
  private let packed: [[UnsafeMutablePointer<Float>?]]
  private var generation = -1

  /// Call inside `Arena.build`.
  init(passes: [WinogradPass], layerCount: Int, arena a: Arena) {
    self.passes = passes
    var table = [[UnsafeMutablePointer<Float>?]](repeating: [UnsafeMutablePointer<Float>?](repeating: nil,
        count: layerCount),
                                                  count: WinogradPass.Kind.allCases.count)
    for p in passes { table[p.kind.rawValue][p.layer] = a.floats(p.packedCount) }
    packed = table
  }

  /// The packed transform of the current weights.
  func packed(_ kind: WinogradPass.Kind, layer: Int, parameters: ParameterSet, weights: [UnsafeMutablePointer<Float>],
              threads: Int) -> UnsafePointer<Float> {
    if generation != parameters.generation {
      for p in passes {
        p.pack(weights: weights[p.layer], into: packed[p.kind.rawValue][p.layer]!, threads: threads)
      }
      generation = parameters.generation
    }
    return UnsafePointer(packed[kind.rawValue][layer]!)
  }
}
