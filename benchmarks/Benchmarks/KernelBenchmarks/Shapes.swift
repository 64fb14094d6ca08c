import GanKernels

/// The DCGAN-64 of pytorch/examples: nz 100, ngf = ndf = 64, nc 3.
enum DCGAN64 {
  static let nz = 100
  /// Generator ConvTranspose2d(4, 2, 1) layers G2..G5: input side and channels.
  static let deconvLayers: [(name: String, side: Int, cin: Int, cout: Int)] = [
    ("G2", 4, 512, 256), ("G3", 8, 256, 128), ("G4", 16, 128, 64), ("G5", 32, 64, 3),
  ]
  /// Discriminator Conv2d(4, 2, 1) layers D1..D4: input side and channels.
  static let convLayers: [(name: String, side: Int, cin: Int, cout: Int)] = [
    ("D1", 64, 3, 64), ("D2", 32, 64, 128), ("D3", 16, 128, 256), ("D4", 8, 256, 512),
  ]
  /// BatchNorm layers: (name, side, channels) of G1..G4 outputs and D2..D4 outputs.
  static let normLayers: [(name: String, side: Int, channels: Int, act: Activation)] = [
    ("G1", 4, 512, .relu), ("G2", 8, 256, .relu), ("G3", 16, 128, .relu), ("G4", 32, 64, .relu),
    ("D2", 16, 128, .leakyRelu(0.2)), ("D3", 8, 256, .leakyRelu(0.2)), ("D4", 4, 512, .leakyRelu(0.2)),
  ]
  /// SAGAN self-attention blocks (--attention-at 16): positions, C/8, C. G after its 16x16
  /// block (G3 output, 128 channels) and D after D2 (16x16, 128 channels): the same core shape;
  /// the 32 px model's 16x16 blocks have 64 channels.
  static let attentionLayers: [(name: String, positions: Int, keyChannels: Int, valueChannels: Int)] = [
    ("64px 16x16x128", 256, 16, 128), ("32px 16x16x64", 256, 8, 64),
  ]
  static let generatorParameters = 3_576_704
  static let batches = [1, 64]
}

/// A 64-byte aligned float buffer filled with small deterministic values.
final class FloatBuffer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Float>
  let count: Int
  init(_ count: Int, fill: Float = 0.01) {
    self.count = max(count, 1)
    pointer = UnsafeMutableRawPointer.allocate(byteCount: self.count * 4, alignment: 64).bindMemory(to: Float.self, capacity: self.count)
    var s: UInt32 = 12345
    for i in 0..<self.count {
      s = s &* 1_664_525 &+ 1_013_904_223
      pointer[i] = (Float(s >> 9) / Float(1 << 23) - 0.5) * fill * 100
    }
  }
  deinit { pointer.deallocate() }
}

final class RawBuffer: @unchecked Sendable {
  let pointer: UnsafeMutableRawPointer
  init(bytes: Int) { pointer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64) }
  deinit { pointer.deallocate() }
}
