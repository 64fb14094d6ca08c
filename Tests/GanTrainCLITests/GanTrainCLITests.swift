import Foundation
import GanModel
import GanTestSupport
import XCTest

/// gan-train as a user runs it: the built executable, its exit status, stdout and stderr.
final class GanTrainCLITests: ScratchDirectoryTestCase {
  override var scratchPrefix: String { "gan-cli" }
  var executable: String { Executables.path("gan-train") }
  func launch(_ args: [String]) throws -> (Process, Pipe, Pipe) { try Executables.launch("gan-train", args) }
  func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) { try Executables.run("gan-train",
      args) }

  func writeDataset(count: Int) -> String {
    var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (\(count), 32, 32), }"
    while (10 + header.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + Array(header.utf8)
    for i in 0..<(count * 1024) { bytes.append(UInt8(truncatingIfNeeded: i &* 2654435761 >> 24)) }
    let path = dir + "/data.npy"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
  }

  func testHelpExplainsEveryFlag() throws {
    XCTAssert(FileManager.default.isExecutableFile(atPath: executable), "no gan-train at \(executable)")
    let r = try run(["--help"])
    XCTAssertEqual(r.status, 0)
    for flag in ["--dataroot", "--image-size", "--batch-size", "--niter", "--iterations", "--lr", "--beta1", "--nz",
                 "--ngf",
                 "--ndf", "--manual-seed", "--outf", "--threads", "--resume", "--init", "--sample-every", "--checkpoint-every",
                 "--no-shuffle", "--noise", "--channels", "--cache-dir", "--arch", "--conditional", "--labels",
                 "--attention-at", "--loss", "--n-dis", "--lr-g", "--lr-d", "--beta2", "--keep-best", "--winograd",
                 "--no-winograd"] {
      XCTAssert(r.out.contains(flag), "--help does not mention \(flag)")
    }
  }

  func testBadInputsGiveOneClearLineAndStatus1() throws {
    let r = try run(["--dataroot", dir + "/missing", "--outf", dir + "/o"])
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(r.err.trimmingCharacters(in: .newlines), "gan-train: \(dir)/missing: no such file or directory")
    try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
    let e = try run(["--dataroot", dir + "/empty", "--outf", dir + "/o", "--cache-dir", dir + "/cache"])
    XCTAssertEqual(e.status, 1)
    XCTAssert(e.err.contains("no .png, .jpg or .jpeg images found"), e.err)
    let v = try run(["--dataroot", dir, "--image-size", "48"])
    XCTAssertNotEqual(v.status, 0)
    XCTAssert(v.err.contains("--image-size must be 32, 64 or 128"), v.err)
  }

  /// Every numeric flag outside its documented range is a usage error: exit 64, one line naming the
  /// flag and the range, before any data is read (--threads 100000 used to abort allocating 147 GB,
  /// --lr nan used to run until the loss went non-finite).
  func testNumericFlagsOutsideTheirRangesAreOneLineUsageErrors() throws {
    let cases: [([String], String)] = [
      (["--threads", "100000"], "--threads 100000: expected 1 to 1024"), (["--threads", "0"], "--threads 0: expected"),
      (["--lr", "nan"], "--lr nan: expected a number from 1e-09 to 1.0"), (["--lr", "inf"], "--lr inf: expected"),
      (["--lr=-0.1"], "--lr -0.1: expected"), (["--beta1", "1"], "--beta1 1.0: expected a number from 0.0 to 0.9999"),
      (["--batch-size", "0"], "--batch-size 0: expected 1 to 4096"), (["--batch-size", "100000"], "--batch-size 100000"),
      (["--nz", "100000000"], "--nz 100000000: expected 1 to 4096"), (["--ngf", "0"], "--ngf 0: expected 1 to 1024"),
      (["--ndf", "5000"], "--ndf 5000: expected 1 to 1024"), (["--niter", "0"], "--niter 0: expected 1 to 1000000000"),
      (["--iterations=-5"], "--iterations -5: expected 1 to 1000000000"),
      (["--sample-every", "0"], "--sample-every 0"), (["--checkpoint-every", "0"], "--checkpoint-every 0"),
      (["--snapshot-every=-1"], "--snapshot-every -1: expected 0 to 1000000000"), (["--swd-every=-1"], "--swd-every -1"),
      (["--swd-images", "0"], "--swd-images 0: expected 1 to 65536"), (["--lr", "abc"], "The value 'abc' is invalid"),
      (["--bogus"], "Unknown option '--bogus'"),
      (["--n-dis", "0"], "--n-dis 0: expected 1 to 100"), (["--n-dis", "1000000"], "--n-dis 1000000: expected 1 to 100"),
      (["--beta2", "1"], "--beta2 1.0: expected a number from 0.0 to 0.9999"),
      (["--lr-g", "0"], "--lr-g 0.0: expected a number from 1e-09 to 1.0"), (["--lr-d", "nan"], "--lr-d nan: expected"),
      (["--arch", "biggan"], "--arch must be 'dcgan' or 'sagan'"), (["--loss", "wgan"], "--loss must be 'bce', 'hinge', 'wgan-gp' or 'wasserstein'"),
      (["--gp-lambda=-1"], "--gp-lambda -1.0: expected"), (["--gp-lambda", "inf"], "--gp-lambda inf: expected"),
      (["--clip", "0"], "--clip 0.0: expected"), (["--clip", "nan"], "--clip nan: expected"),
      (["--mixing", "a.npy"], "--mixing needs --loss wgan-gp"),
      (["--conditional"], "--conditional needs --arch sagan"), (["--labels", "l.npy"], "--labels needs --conditional"),
      (["--arch", "sagan", "--attention-at", "12"], "--attention-at 12: expected 0 or a power of two from 8 to 32"),
      (["--arch", "sagan", "--attention-at=-8"], "--attention-at -8: expected 0 or a power of two"),
      (["--arch", "sagan", "--attention-at", "99999999999999"], "--attention-at 99999999999999: expected"),
      (["--arch", "sagan", "--winograd"], "--winograd is for --arch dcgan"),
      (["--keep-best", "--swd-every", "0"], "--keep-best needs the in-loop SWD"),
    ]
    for (args, message) in cases {
      let r = try run(["--dataroot", dir + "/never-read", "--outf", dir + "/o"] + args)
      XCTAssertEqual(r.status, 64, "\(args): \(r.err)")
      XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(args): \(r.err)")
      XCTAssertTrue(r.err.hasPrefix("gan-train: " + message), "\(args): \(r.err)")
      XCTAssertTrue(r.err.hasSuffix(" (see gan-train --help)\n"), "\(args): \(r.err)")
    }
    // A model too large for this machine is refused from its estimate, before any allocation.
    let big = try run(["--dataroot", writeDataset(count: 64), "--outf", dir + "/o", "--image-size", "128", "--ngf",
                       "1024", "--ndf", "1024", "--batch-size", "4096"])
    XCTAssertEqual(big.status, 64, big.err)
    XCTAssertTrue(big.err.contains("needs about") && big.err.contains("more than this machine's"), big.err)
    for (args, message) in [(["--threads", "100000"], "--threads 100000: expected 1 to 1024"),
                            (["--percentile", "nan"], "--percentile nan: expected 50 to 100"),
                            (["--calibration-batches", "0"], "--calibration-batches 0: expected 1 to 10000"),
                            (["--bn-batches=-1"], "--bn-batches -1: expected 0 to 100000")] {
      let r = try Executables.run("gan-quant", ["--model", dir + "/m", "--out", dir + "/q"] + args)
      XCTAssertEqual(r.status, 64, "\(args): \(r.err)")
      XCTAssertEqual(r.err, "gan-quant: \(message) (see gan-quant --help)\n")
    }
  }

  func testSigintWritesACheckpointAndResumeContinues() throws {
    let data = writeDataset(count: 64)
    let common = ["--dataroot", data, "--image-size", "32", "--batch-size", "8", "--nz", "8", "--ngf", "8", "--ndf",
                  "8",
                  "--manual-seed", "5", "--outf", dir + "/out", "--cache-dir", dir + "/cache", "--threads", "1"]
    let (p, out, err) = try launch(common + ["--iterations", "100000", "--sample-every", "100000", "--checkpoint-every",
                                             "100000"])
    // Wait for a few logged iterations, then interrupt.
    let deadline = Date().addingTimeInterval(120)
    var rows = 0
    while Date() < deadline {
      rows = ((try? String(contentsOfFile: dir + "/out/log.csv",
                           encoding: .utf8)) ?? "").split(separator: "\n").count - 1
      if rows >= 3 { break }
      Thread.sleep(forTimeInterval: 0.05)
    }
    XCTAssertGreaterThanOrEqual(rows, 3, "training did not start")
    kill(p.processIdentifier, SIGINT)
    let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    _ = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 130, o)
    XCTAssert(o.contains("stopped by signal at iteration"), o)
    let ck = try SafeTensorsFile(path: dir + "/out/checkpoint.safetensors")
    let it = Int(try ck.integers("state.iteration")[0])
    XCTAssertGreaterThanOrEqual(it, 3)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/generator.safetensors"))
    // Resume to a few iterations past the interruption.
    let r = try run(common + ["--iterations", "\(it + 2)", "--resume"])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssert(r.out.contains("resumed from"), r.out)
    XCTAssertEqual(Int(try SafeTensorsFile(path: dir + "/out/checkpoint.safetensors").integers("state.iteration")[0]),
                   it + 2)
    XCTAssert(FileManager.default.fileExists(atPath: dir + "/out/generator.safetensors"))
  }

  /// DCGAN trains with the Winograd passes by default and says which; --no-winograd runs direct.
  func testWinogradIsTheDCGANDefault() throws {
    let data = writeDataset(count: 16)
    let common = ["--dataroot", data, "--image-size", "32", "--nz", "8", "--ngf", "32", "--ndf", "32", "--batch-size",
                  "8", "--iterations", "1", "--cache-dir", dir + "/cache", "--swd-every", "0", "--threads", "2"]
    let d = try run(common + ["--outf", dir + "/default"])
    XCTAssertEqual(d.status, 0, d.err)
    XCTAssert(d.out.contains("winograd: G forward, layers 1 F(2x2,2x2), 2 F(2x2,2x2)"), d.out)
    let off = try run(common + ["--outf", dir + "/direct", "--no-winograd"])
    XCTAssertEqual(off.status, 0, off.err)
    XCTAssert(off.out.contains("winograd: off (--no-winograd)"), off.out)
    XCTAssertFalse(off.out.contains("F(2x2"), off.out)
  }

  func testNoiseFileShapeIsChecked() throws {
    let data = writeDataset(count: 16)
    var values = [Float](repeating: 0.5, count: 3 * 7)
    let path = dir + "/z.npy"
    try values.withUnsafeMutableBufferPointer { try NPY.writeFloat32(path: path, values: UnsafeBufferPointer($0),
                                                                     shape: [3, 7]) }
    let r = try run(["--dataroot", data, "--image-size", "32", "--nz", "8", "--noise", path, "--outf", dir + "/o",
                     "--cache-dir", dir + "/cache"])
    XCTAssertEqual(r.status, 1)
    XCTAssert(r.err.contains("latents have nz 7, the model expects 8"), r.err)
  }

  /// A conditional SAGAN from the command line: labels from a .npy, one iteration, then gan-gen's
  /// --class grid from the exported generator; labels that do not fit the data are one line.
  func testConditionalSAGANEndToEnd() throws {
    let data = writeDataset(count: 32)
    let labels = dir + "/labels.npy"
    var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (32,), }"
    while (10 + header.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + Array(header.utf8)
      + (0..<32).map { UInt8($0 % 4) }
    FileManager.default.createFile(atPath: labels, contents: Data(bytes))
    let common = ["--dataroot", data, "--image-size", "32", "--nz", "8", "--ngf", "8", "--ndf", "8", "--batch-size", "8",
                  "--cache-dir", dir + "/cache", "--swd-every", "0", "--threads", "2"]
    let r = try run(common + ["--arch", "sagan", "--conditional", "--labels", labels, "--loss", "hinge", "--n-dis", "2",
                              "--iterations", "2", "--outf", dir + "/out"])
    XCTAssertEqual(r.status, 0, r.err)
    XCTAssert(r.out.contains("SAGAN 32x32x1, nz 8, ngf 8, ndf 8, 4 classes, attention at 16 px, loss hinge"), r.out)
    let g = try Executables.run("gan-gen", ["--model", dir + "/out/generator.safetensors", "--class", "all", "--grid", "3",
                                            "--out", dir + "/classes.png"])
    XCTAssertEqual(g.status, 0, g.err)
    XCTAssert(g.out.contains("row 3: class 3 3") && g.out.contains("(12 images"), g.out)
    let u = try Executables.run("gan-gen", ["--model", dir + "/out/generator.safetensors", "--class", "4"])
    XCTAssertEqual(u.status, 64)
    XCTAssertEqual(u.err, "gan-gen: --class 4: expected a class index from 0 to 3, a class name, or 'all' (see gan-gen --help)\n")
    let missing = try run(common + ["--arch", "sagan", "--conditional", "--iterations", "1", "--outf", dir + "/o2"])
    XCTAssertEqual(missing.status, 64, missing.err)
    XCTAssert(missing.err.contains("--conditional: no labels for"), missing.err)
    let short = dir + "/short.npy"
    FileManager.default.createFile(atPath: short, contents: Data(bytes.dropLast(2)))
    let wrong = try run(common + ["--arch", "sagan", "--conditional", "--labels", short, "--iterations", "1",
                                  "--outf", dir + "/o3"])
    XCTAssertEqual(wrong.status, 1, wrong.err)
    XCTAssertEqual(wrong.err.split(separator: "\n").count, 1, wrong.err)
    XCTAssert(wrong.err.contains(short), wrong.err)
  }
}
