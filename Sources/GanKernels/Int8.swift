import CGanKernels

/// The int8 layer kernels (files written by gan-quant): thin wrappers over gk_q8_*.
public enum Int8Kernels {
  public typealias Layer = gk_q8_layer

  public static let dense = Int32(GK_Q8_DENSE)
  public static let deconv4s2 = Int32(GK_Q8_DECONV4S2)
  /// The same layer as exact Winograd F(2x2, 2x2) (bitwise the direct output); only where
  /// `winogradSupported`.
  public static let deconv4s2Winograd = Int32(GK_Q8_DECONV4S2_WINOGRAD2)
  /// Output modes: u8 codes (requantized, ReLU as the clamp), fp32 after ReLU, fp32 tanh (+ pixels).
  public static let outU8 = Int32(GK_Q8_OUT_U8)
  public static let outF32Relu = Int32(GK_Q8_OUT_F32_RELU)
  public static let outF32Tanh = Int32(GK_Q8_OUT_F32_TANH)
  /// Plain fp32 (no activation): before a conditional BatchNorm applied image by image.
  public static let outF32 = Int32(GK_Q8_OUT_F32)

  public static var variants: [(index: Int32, name: String, available: Bool)] {
    (0..<gk_q8_variant_count()).map { i in
      let v = gk_q8_variant_at(i)!.pointee
      return (i, String(cString: v.name), v.available != 0)
    }
  }
  public static var selectedVariantName: String { String(cString: gk_q8_variant_at(gk_q8_selected_variant())!.pointee.name) }
  /// Tests only: nil restores the automatic choice. Weights must be packed after forcing.
  public static func forceVariant(_ index: Int32?) { gk_q8_force_variant(index ?? -1) }

  public static func packedBytes(kind: Int32, inChannels: Int, outChannels: Int) -> Int {
    gk_q8_packed_bytes(kind, Int32(inChannels), Int32(outChannels))
  }
  /// From PyTorch's (cin, cout, 4, 4) int8 layout.
  public static func packDeconv4s2(inChannels: Int, outChannels: Int, torchWeights: UnsafePointer<Int8>,
                                   into packed: UnsafeMutablePointer<Int8>) {
    gk_q8_pack_deconv4s2_torch(Int32(inChannels), Int32(outChannels), torchWeights, packed)
  }
  /// Transformed int16 weights of `deconv4s2Winograd` from PyTorch's (cin, cout, 4, 4) int8 layout.
  public static func packDeconv4s2Winograd(inChannels: Int, outChannels: Int, torchWeights: UnsafePointer<Int8>,
                                           into packed: UnsafeMutablePointer<Int8>) {
    gk_q8_pack_deconv4s2_winograd2_torch(Int32(inChannels), Int32(outChannels), torchWeights, packed)
  }
  /// Whether the selected variant runs `deconv4s2Winograd` for this input (an int16 x int16
  /// product, that is no VNNI or sdot; even height and width; at most 2048 input channels).
  public static func winogradSupported(height: Int, width: Int, inChannels: Int) -> Bool {
    gk_q8_winograd_supported(Int32(height), Int32(width), Int32(inChannels)) != 0
  }
  /// The projection (nz, c, 4, 4) as a dense nz x 16c layer with NHWC (4, 4, c) outputs.
  public static func packProjection(nz: Int, channels: Int, torchWeights: UnsafePointer<Int8>,
                                    into packed: UnsafeMutablePointer<Int8>) {
    gk_q8_pack_projection_torch(Int32(nz), Int32(channels), torchWeights, packed)
  }
  public static func workspaceBytes(_ layers: UnsafePointer<Layer>, count: Int, threads: Int) -> Int {
    gk_q8_workspace_bytes(layers, Int32(count), Int32(threads))
  }
  /// Runs the layers in order in one parallel region.
  public static func run(_ layers: UnsafePointer<Layer>, count: Int, workspace: UnsafeMutableRawPointer, threads: Int) {
    gk_q8_run(layers, Int32(count), workspace, Int32(threads))
  }
}
