import GanModel

/// gan-gen's command line: its flags, their defaults and ranges, parsed by Flags (not
/// swift-argument-parser: see Flags for why). A library type, so the flag fuzzer drives the very
/// parser gan-gen runs; board-safe (typed throws, no Foundation).
public struct GanGenOptions {
  public static let overview = "Generate images with a DCGAN or SAGAN generator: fp32 safetensors from gan-train or " +
                        "PyTorch, or an int8 file from gan-quant."
  public static let discussion = """
    Image i of seed s comes from latent(s, i), a pure function of (s, i): the same image whatever \
    --batch, --first-index or --threads. Output is bitwise identical for any thread count and batch.
    Examples:
      gan-gen --model out/generator.safetensors --count 64 --grid 8 --out grid.png
      gan-gen --model g.safetensors --latents z.npy --save-raw x.npy --out pngs
      gan-gen --model g.safetensors --interpolate slerp --steps 10 --grid 10 --out walk.png
      gan-gen --model g.safetensors --bench --batch 1
      gan-gen --model sagan/generator.safetensors --class all --grid 8 --out classes.png
    """
  public static let flagSpecs: [Flags.Spec] = [
    .init(name: "model", value: "path",
          help: "Generator safetensors: gan-train's generator.safetensors, a PyTorch DCGAN state_dict (main.N. or N. " +
                "names), or gan-quant's int8 file."),
    .init(name: "count", value: "n", help: "Number of images (default: 64)."),
    .init(name: "seed", value: "n", help: "Seed of the latents (default: 0)."),
    .init(name: "first-index", value: "n",
          help: "Index of the first image (default: 0; image i of seed s is the same in any batch)."),
    .init(name: "batch", value: "n",
          help: "Images per generator call, 1 to \(GanGenOptions.maxBatch) (default: min(count, 64)); memory is planned for " +
                "this size, and images are written a batch at a time, so memory does not grow with --count."),
    .init(name: "threads", value: "n",
          help: "Compute threads, 1 to \(GanGenOptions.maxThreads) (default: all cores). Output does not depend on it."),
    .init(name: "out", value: "path",
          help: "Output: a folder of PNGs (image_NNNNNN.png), or with --grid the grid PNG's path. Default: samples " +
                "(or samples.png with --grid)."),
    .init(name: "grid", value: "n", help: "Write one grid PNG with this many columns instead of one PNG per image."),
    .init(name: "latents", value: "npy",
          help: "Latents from a float32 .npy of shape (N, nz) or (N, nz, 1, 1) instead of the seed (sets --count to " +
                "N)."),
    .init(name: "save-raw", value: "npy",
          help: "Also save the raw outputs as a float32 .npy of shape (N, C, H, W) in [-1, 1] (PyTorch's layout)."),
    .init(name: "interpolate", value: "linear|slerp",
          help: "Interpolate between two latents, 'linear' or 'slerp': images --from and --to of --seed (or the " +
                "first two --latents rows), --steps images."),
    .init(name: "from", value: "n", help: "Interpolation start image index (default: --first-index)."),
    .init(name: "to", value: "n", help: "Interpolation end image index (default: start + 1)."),
    .init(name: "steps", value: "n", help: "Interpolation steps, both ends included (default: 8)."),
    .init(name: "class", value: "k|name|all",
          help: "Conditional models: the class of every image, as its index or name; 'all': a grid with one row per " +
                "class and --grid columns (default 8), the same latents in every row, the rows' classes in the log. " +
                "Default: image i has class i mod classes."),
    .init(name: "bench", value: nil,
          help: "Benchmark: warm up, then time --count images in calls of --batch; print latency percentiles and " +
                "img/s. Writes no images."),
    .init(name: "winograd", value: nil,
          help: "Run the deconvolution layers as Winograd: fp32 models F(4x4, 2x2) or F(2x2, 2x2), chosen per layer " +
                "shape from measurements, output within about 1e-6 relative of the default; int8 models the exact " +
                "F(2x2, 2x2) on layers with 128+ input channels where the CPU has no int8 dot product (AVX2, " +
                "Cortex-A72), output bitwise unchanged. --bench prints the choice. Faster at larger batches, slower " +
                "at batch 1; output stays identical across --threads and --batch."),
  ]

  public static let maxThreads = FlagRange.threads.upperBound
  public static let maxBatch = 4096

  public var model: String
  public var count: Int = 64
  public var seed: UInt64 = 0
  public var firstIndex: Int = 0
  public var batch: Int?
  public var threads: Int?
  public var out: String?
  public var grid: Int?
  public var latents: String?
  public var saveRaw: String?
  public var interpolate: String?
  public var from: Int?
  public var to: Int?
  public var steps: Int = 8
  public var bench = false
  public var winograd = false
  /// --class as given (resolved against the model's classes when it is loaded).
  public var classChoice: String?

  /// --help's text: overview, discussion, usage and every flag.
  public static var helpText: String {
    Flags(flagSpecs).helpText(command: "gan-gen", overview: overview, usage: "--model <path> [<options>]",
                              discussion: discussion)
  }

  /// Parses the command line (usage errors thrown as `.usage`); nil when it asks for --help.
  public init?(arguments: [String]) throws(GanError) {
    var flags = Flags(GanGenOptions.flagSpecs)
    try flags.parse(arguments)
    if flags.flag("help") { return nil }
    guard let v = flags.string("model") else { throw .usage("missing '--model <path>'") }
    model = v
    if let v = try flags.int("count") { count = v }
    if let v = try flags.uint64("seed") { seed = v }
    if let v = try flags.int("first-index") { firstIndex = v }
    batch = try flags.int("batch")
    threads = try flags.int("threads")
    out = flags.string("out")
    grid = try flags.int("grid")
    latents = flags.string("latents")
    saveRaw = flags.string("save-raw")
    interpolate = flags.string("interpolate")
    from = try flags.int("from")
    to = try flags.int("to")
    if let v = try flags.int("steps") { steps = v }
    bench = flags.flag("bench")
    winograd = flags.flag("winograd")
    classChoice = flags.string("class")
  }

  /// The class assignment of --class for a model with these class names (empty: unconditional).
  public func classAssignment(names: [String], columns: Int) throws(GanError) -> ClassAssignment {
    guard let choice = classChoice else { return names.isEmpty ? .none : .cycle(classes: names.count, first: firstIndex) }
    guard !names.isEmpty else { throw .usage("--class \(choice): the model is not class-conditional") }
    if choice == "all" { return .rows(columns: columns) }
    if let k = names.firstIndex(of: choice) { return .fixed(k) }
    guard let k = Int(choice), k >= 0 && k < names.count else {
      throw .usage("--class \(choice): expected a class index from 0 to \(names.count - 1), a class name, or 'all'")
    }
    return .fixed(k)
  }

  /// Latent indices are Philox streams: non-negative, and first + count must not overflow.
  public static let maxIndex = 1 << 62

  public func validate() throws(GanError) {
    guard count > 0 && count <= GanGenOptions.maxIndex else { throw .usage("--count must be between 1 and 2^62") }
    if let b = batch, !(1...GanGenOptions.maxBatch).contains(b) {
      throw .usage("--batch must be between 1 and \(GanGenOptions.maxBatch)")
    }
    if let t = threads { try FlagRange.check("threads", t, FlagRange.threads) }
    if let g = grid, g < 1 { throw .usage("--grid must be at least 1") }
    guard (0...GanGenOptions.maxIndex).contains(firstIndex), firstIndex <= GanGenOptions.maxIndex - count else {
      throw .usage("--first-index must be between 0 and 2^62 - --count")
    }
    for (name, v) in [("from", from), ("to", to)] {
      if let v, !(0...GanGenOptions.maxIndex).contains(v) { throw .usage("--\(name) must be between 0 and 2^62") }
    }
    if let m = interpolate, m != "linear" && m != "slerp" { throw .usage("--interpolate must be 'linear' or 'slerp'") }
    guard steps >= 2 && steps <= GanGenOptions.maxIndex else { throw .usage("--steps must be at least 2") }
    if classChoice == "all" && (interpolate != nil || latents != nil) {
      throw .usage("--class all makes its own latents (one row per class): not with --interpolate or --latents")
    }
  }
}
