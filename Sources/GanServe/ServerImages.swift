import GanImage
import GanModel
import GanRuntime

/// Generated pixels to the PNG a response carries.
enum ServerImages {
  /// `count` images of modelSize^2 x channels bytes each: one image (count 1) or a grid of
  /// `columns` (GenerationJob's layout, 2 px padding, black), every image resized to `size`
  /// (Image.centerCropResized, area averaging) when it differs from the model's.
  static func png(pixels: [UInt8], count: Int, modelSize: Int, channels: Int, size: Int,
                  columns: Int) throws(GanError) -> [UInt8] {
    let per = modelSize * modelSize * channels
    func tile(_ i: Int) -> Image {
      let image = Image(width: modelSize, height: modelSize, channels: channels,
                        pixels: Array(pixels[(i * per)..<((i + 1) * per)]))
      return size == modelSize ? image : image.centerCropResized(to: size)
    }
    if count == 1 && columns == 1 { return try tile(0).encodePNG() }
    let (w, h) = GenerationJob.gridSize(count: count, size: size, columns: columns)
    var grid = Image(width: w, height: h, channels: channels, fill: 0)
    for i in 0..<count {
      let t = tile(i)
      t.pixels.withUnsafeBufferPointer { grid.place(tile: $0.baseAddress!, size: size, at: i, columns: columns) }
    }
    return try grid.encodePNG()
  }
}
