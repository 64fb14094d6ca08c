// CGanImageIO: PNG (libpng), JPEG (libjpeg-turbo) and gzip (zlib) for GanImage and GanData.
// Decoders allocate their output with malloc; free it with gi_free. Errors return non-zero and
// write a one-line reason into err.
#ifndef GAN_IMAGEIO_H
#define GAN_IMAGEIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Largest image the decoders accept, in pixels (2^25: 33.5 megapixels, e.g. 6000x4000 photos).
/// Checked against the declared size before any pixel buffer is allocated, so a file that claims
/// 20000x20000 costs a header read, not gigabytes.
#define GI_MAX_PIXELS (1u << 25)

/// Decodes a PNG or JPEG file (by content) to 8-bit pixels with `channels` (1 gray, 3 RGB) per
/// pixel, row-major. Alpha is composited over white. Images over GI_MAX_PIXELS are refused.
int gi_decode_file(const char *path, int channels, uint8_t **pixels, int *width, int *height,
                   char *err, size_t err_len);

/// Writes an 8-bit PNG (channels 1 or 3).
int gi_write_png(const char *path, const uint8_t *pixels, int width, int height, int channels,
                 char *err, size_t err_len);

/// Encodes an 8-bit PNG (channels 1 or 3) into a malloc'ed buffer of `*length` bytes.
int gi_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **png,
                  size_t *length, char *err, size_t err_len);

/// Reads a whole (possibly gzip-compressed) file into a malloc'ed buffer; more than `max_length`
/// bytes (after decompression) is an error, so a gzip bomb stops at the limit.
int gi_read_gz(const char *path, size_t max_length, uint8_t **data, size_t *length, char *err, size_t err_len);

void gi_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
