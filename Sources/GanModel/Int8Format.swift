/// The int8 generator file written by gan-quant (safetensors). BatchNorm is folded, so there are
/// no BN tensors; layer i keeps PyTorch's conv name `main.{3i}.`:
/// - `weight`: I8 (cin, cout, 4, 4), per-output-channel symmetric in [-127, 127]; or F32 for a
///   layer kept in fp32 (folded, same layout).
/// - `weight_scale`: F32 [cout], real weight = code * scale (int8 layers).
/// - `input_scale`: F32 [1], real input = code * scale: u8 codes (zero point 0) for post-ReLU
///   inputs, s8 in [-127, 127] for the latent (int8 layers).
/// - `bias`: F32 [cout], the folded BatchNorm shift (zero for the output layer).
/// Metadata: `gan.format` = `Int8Format.tag`, `gan.arch`, and `gan.quantization` (JSON: method,
/// calibration, layers kept in fp32).
public enum Int8Format {
  public static let tag = "swift-gan-int8-1"
  public static func prefix(layer i: Int) -> String { "main.\(3 * i)." }
  public static func weight(_ i: Int) -> String { prefix(layer: i) + "weight" }
  public static func weightScale(_ i: Int) -> String { prefix(layer: i) + "weight_scale" }
  public static func inputScale(_ i: Int) -> String { prefix(layer: i) + "input_scale" }
  public static func bias(_ i: Int) -> String { prefix(layer: i) + "bias" }
}
