import GanKernels

/// Each layer's kernel shape and activation size: the one place the trainer, the quantizer and the
/// runtimes ask for them. Maps are square, NHWC.
extension Architecture {
  /// Generator layer i >= 1 as a 4x4 stride-2 transposed convolution:
  /// (batch, S, S, cin_i) -> (batch, 2S, 2S, cout_i) with S = generatorSize(i - 1).
  public func generatorDeconvolution(_ i: Int, batch: Int) -> ConvShape {
    let s = generatorSize(i - 1)
    return ConvShape(batch: batch, height: s, width: s, inChannels: generatorInputChannels(i),
                     outChannels: generatorChannels(i))
  }

  /// Floats in generator layer i's output: batch x generatorSize(i)^2 x generatorChannels(i).
  public func generatorOutputElements(_ i: Int, batch: Int) -> Int {
    batch * generatorSize(i) * generatorSize(i) * generatorChannels(i)
  }

  /// Discriminator layer i < L-1 as a 4x4 stride-2 convolution:
  /// (batch, S, S, cin_i) -> (batch, S/2, S/2, cout_i) with S = discriminatorInputSize(i).
  public func discriminatorConvolution(_ i: Int, batch: Int) -> ConvShape {
    let s = discriminatorInputSize(i)
    return ConvShape(batch: batch, height: s, width: s, inChannels: discriminatorInputChannels(i),
                     outChannels: discriminatorChannels(i))
  }

  /// Backward-data of discriminator layer i as a transposed convolution of its output gradient:
  /// (batch, S/2, S/2, cout_i) -> (batch, S, S, cin_i).
  public func discriminatorBackwardData(_ i: Int, batch: Int) -> ConvShape {
    let s = discriminatorInputSize(i) / 2
    return ConvShape(batch: batch, height: s, width: s, inChannels: discriminatorChannels(i),
                     outChannels: discriminatorInputChannels(i))
  }

  /// Floats in discriminator layer i's output (i < L-1): batch x (S/2)^2 x discriminatorChannels(i).
  public func discriminatorOutputElements(_ i: Int, batch: Int) -> Int {
    let s = discriminatorInputSize(i) / 2
    return batch * s * s * discriminatorChannels(i)
  }
}

extension Architecture {
  /// Convolution weights of G and D together (BatchNorm's few per-channel values left out).
  public var weightCount: Int {
    (0..<layerCount).reduce(0) { sum, i in
      sum + 16 * generatorInputChannels(i) * generatorChannels(i) +
        16 * discriminatorInputChannels(i) * discriminatorChannels(i)
    }
  }

  /// An estimate of training's resident bytes at `batch`, without the dataset: per weight, the value,
  /// its gradient, Adam's two moments and up to two packed or Winograd copies; per activation float,
  /// about six buffers (pre- and post-BatchNorm values, their gradients, D's real and fake passes).
  /// Measured peak RSS is 0.6x to 1.4x of it (docs/reliability.md): gan-train refuses a model whose
  /// estimate exceeds the machine's memory, instead of dying in an allocation.
  public func trainingBytesEstimate(batch: Int) -> Int {
    var activations = 0
    for i in 0..<layerCount {
      activations += generatorOutputElements(i, batch: batch)
      if i < layerCount - 1 { activations += discriminatorOutputElements(i, batch: batch) }
    }
    activations += batch * imageSize * imageSize * nc
    // SAGAN: per attention block (G and D) the map and its gradient (batch x P x P) and about
    // eight batch x P x C buffers (q, k, v, o, the output and their gradients); W / sigma copies.
    var attention = 0
    for (layer, side, channels) in [(generatorAttentionLayer, generatorSize(generatorAttentionLayer ?? 0),
                                     generatorChannels(generatorAttentionLayer ?? 0)),
                                    (discriminatorAttentionLayer, discriminatorInputSize(discriminatorAttentionLayer ?? 0) / 2,
                                     discriminatorChannels(discriminatorAttentionLayer ?? 0))] where layer != nil {
      let p = side * side
      attention += 2 * batch * p * p + 8 * batch * p * channels
    }
    return 4 * ((isSAGAN ? 7 : 6) * weightCount + 6 * activations + attention)
  }
}
