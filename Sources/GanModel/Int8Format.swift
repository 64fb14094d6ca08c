/// The int8 generator file written by gan-quant (safetensors). BatchNorm is folded, so there are
/// no BN tensors; layer i keeps PyTorch's conv name `main.{3i}.`:
/// - `weight`: I8 (cin, cout, 4, 4), per-output-channel symmetric in [-127, 127]; or F32 for a
///   layer kept in fp32 (folded, same layout).
/// - `weight_scale`: F32 [cout], real weight = code * scale (int8 layers).
/// - `input_scale`: F32 [1], real input = code * scale: u8 codes (zero point 0) for post-ReLU
///   inputs, s8 in [-127, 127] for the latent (int8 layers).
/// - `bias`: F32 [cout], the folded BatchNorm shift (zero for the output layer).
/// SAGAN generators also have (spectral norm folded into every weight):
/// - `cbn.{i}.scale`, `cbn.{i}.shift`: F32 (classes, cout), a conditional layer's BatchNorm in eval
///   mode per class (its `bias` is then zero and its output goes through these, then ReLU);
/// - `attention.{query,key,value}.weight`: F32 (cout, C, 1, 1), W / sigma; `.bias`; `attention.gamma`:
///   the self-attention block after layer `gan.arch`'s attention layer, run in fp32.
/// Metadata: `gan.format` = `Int8Format.tag`, `gan.arch`, `gan.classes` (conditional models), and
/// `gan.quantization` (JSON: method, calibration, layers kept in fp32).
public enum Int8Format {
  public static let tag = "swift-gan-int8-1"
  public static func prefix(layer i: Int) -> String { "main.\(3 * i)." }
  public static func weight(_ i: Int) -> String { prefix(layer: i) + "weight" }
  public static func weightScale(_ i: Int) -> String { prefix(layer: i) + "weight_scale" }
  public static func inputScale(_ i: Int) -> String { prefix(layer: i) + "input_scale" }
  public static func bias(_ i: Int) -> String { prefix(layer: i) + "bias" }
  public static func conditionalScale(_ i: Int) -> String { "cbn.\(i).scale" }
  public static func conditionalShift(_ i: Int) -> String { "cbn.\(i).shift" }
  public static func attentionWeight(_ part: String) -> String { "attention.\(part).weight" }
  public static func attentionBias(_ part: String) -> String { "attention.\(part).bias" }
  public static let attentionGamma = "attention.gamma"
}
