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
