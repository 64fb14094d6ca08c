import FuzzSupport
import GanImage

/// The PNG/JPEG decode shim (CGanImageIO over libpng and libjpeg-turbo), gray and RGB, then the
/// dataset's centre crop and area resize.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
  let path = FuzzInput.file(data, count)
  for channels in [1, 3] {
    guard let img = try? Image.load(path: path, channels: channels) else { continue }
    precondition(img.pixels.count == img.width * img.height * channels)
    _ = img.centerCropResized(to: 32)
  }
  return 0
}
