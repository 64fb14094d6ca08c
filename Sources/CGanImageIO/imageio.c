// PNG and JPEG decoding to 8-bit gray or RGB, PNG encoding, gzip reading. I/O lives here so the
// kernels stay pure math.
#include "gan_imageio.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <zlib.h>

void gi_free(void *p) { free(p); }

static void set_err(char *err, size_t len, const char *msg) {
  if (err && len) snprintf(err, len, "%s", msg);
}

// Converts rows of `src_channels` (1..4, 8-bit) to gray or RGB; alpha over white.
static void convert_pixels(const uint8_t *src, int src_channels, uint8_t *dst, int channels,
                           size_t count) {
  for (size_t i = 0; i < count; i++) {
    const uint8_t *s = src + i * src_channels;
    int r, g, b;
    if (src_channels <= 2) {
      r = g = b = s[0];
    } else {
      r = s[0]; g = s[1]; b = s[2];
    }
    if (src_channels == 2 || src_channels == 4) {
      int a = s[src_channels - 1];
      r = (r * a + 255 * (255 - a) + 127) / 255;
      g = (g * a + 255 * (255 - a) + 127) / 255;
      b = (b * a + 255 * (255 - a) + 127) / 255;
    }
    if (channels == 1) {
      dst[i] = (uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000);
    } else {
      dst[i * 3] = (uint8_t)r; dst[i * 3 + 1] = (uint8_t)g; dst[i * 3 + 2] = (uint8_t)b;
    }
  }
}

// MARK: - PNG

typedef struct { char *err; size_t len; } png_err_ctx;

static void png_error_fn(png_structp png, png_const_charp msg) {
  png_err_ctx *ctx = (png_err_ctx *)png_get_error_ptr(png);
  if (ctx) set_err(ctx->err, ctx->len, msg);
  png_longjmp(png, 1);
}

static void png_warning_fn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static int decode_png(FILE *f, int channels, uint8_t **pixels, int *width, int *height, char *err,
                      size_t err_len) {
  png_err_ctx ctx = {err, err_len};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
  if (!png) { set_err(err, err_len, "out of memory"); return 1; }
  png_infop info = png_create_info_struct(png);
  uint8_t *volatile raw = NULL;
  png_bytep *volatile rows = NULL;
  uint8_t *volatile out = NULL;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    free(raw); free(rows); free(out);
    return 1;
  }
  png_init_io(png, f);
  png_set_user_limits(png, 65536, 65536);
  png_read_info(png, info);
  {
    png_uint_32 dw = png_get_image_width(png, info), dh = png_get_image_height(png, info);
    if ((uint64_t)dw * dh > GI_MAX_PIXELS) {
      char msg[160];
      snprintf(msg, sizeof msg, "image of %ux%u pixels exceeds the limit of %u pixels", (unsigned)dw, (unsigned)dh,
               (unsigned)GI_MAX_PIXELS);
      png_error(png, msg);
    }
  }
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_packing(png);
  png_read_update_info(png, info);
  int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
  int src_ch = png_get_channels(png, info);
  if (w <= 0 || h <= 0 || w > 65536 || h > 65536) png_error(png, "image dimensions out of range");
  raw = malloc((size_t)w * h * src_ch);
  rows = malloc(sizeof(png_bytep) * (size_t)h);
  out = malloc((size_t)w * h * channels);
  if (!raw || !rows || !out) png_error(png, "out of memory");
  for (int y = 0; y < h; y++) rows[y] = raw + (size_t)y * w * src_ch;
  png_read_image(png, rows);
  convert_pixels(raw, src_ch, out, channels, (size_t)w * h);
  png_destroy_read_struct(&png, &info, NULL);
  free(raw); free(rows);
  *pixels = out; *width = w; *height = h;
  return 0;
}

// A growing malloc'ed buffer that libpng writes into (gi_encode_png).
typedef struct { uint8_t *data; size_t length, capacity; } png_memory;

static void png_memory_write(png_structp png, png_bytep bytes, png_size_t n) {
  png_memory *m = (png_memory *)png_get_io_ptr(png);
  if (m->length + n > m->capacity) {
    size_t capacity = m->capacity ? m->capacity : 4096;
    while (capacity < m->length + n) capacity *= 2;
    uint8_t *grown = realloc(m->data, capacity);
    if (!grown) png_error(png, "out of memory");
    m->data = grown; m->capacity = capacity;
  }
  memcpy(m->data + m->length, bytes, n);
  m->length += n;
}

static void png_memory_flush(png_structp png) { (void)png; }

// The one PNG writer: to the open file `f`, or (f == NULL) into `memory`.
static int write_png(FILE *f, png_memory *memory, const uint8_t *pixels, int width, int height,
                     int channels, char *err, size_t err_len) {
  png_err_ctx ctx = {err, err_len};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_fn, png_warning_fn);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    if (!png || !info) set_err(err, err_len, "out of memory");
    if (png) png_destroy_write_struct(&png, info ? &info : NULL);
    return 1;
  }
  if (f) png_init_io(png, f); else png_set_write_fn(png, memory, png_memory_write, png_memory_flush);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; y++)
    png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return 0;
}

int gi_write_png(const char *path, const uint8_t *pixels, int width, int height, int channels,
                 char *err, size_t err_len) {
  FILE *f = fopen(path, "wb");
  if (!f) { set_err(err, err_len, strerror(errno)); return 1; }
  if (write_png(f, NULL, pixels, width, height, channels, err, err_len) != 0) { fclose(f); return 1; }
  if (fclose(f) != 0) { set_err(err, err_len, strerror(errno)); return 1; }
  return 0;
}

int gi_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **png,
                  size_t *length, char *err, size_t err_len) {
  png_memory memory = {NULL, 0, 0};
  if (write_png(NULL, &memory, pixels, width, height, channels, err, err_len) != 0) {
    free(memory.data);
    return 1;
  }
  *png = memory.data; *length = memory.length;
  return 0;
}

// MARK: - JPEG

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  char *err;
  size_t len;
} jpeg_err_ctx;

static void jpeg_error_exit(j_common_ptr cinfo) {
  jpeg_err_ctx *ctx = (jpeg_err_ctx *)cinfo->err;
  char buf[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buf);
  set_err(ctx->err, ctx->len, buf);
  longjmp(ctx->jump, 1);
}

// Warnings are quiet (many real JPEGs carry "extraneous bytes" and decode fine), except the end
// of the file before the end of the image: libjpeg would pad the rest with gray and go on, so a
// truncated download became a half-gray training image, and a 216-byte file declaring 31 Mpx
// cost a full-size decode (a fuzz finding). It is an error instead.
static void jpeg_quiet(j_common_ptr cinfo, int level) {
  // JWRN_HIT_MARKER: the entropy-coded data stops at a marker before the image is complete (the
  // same gray padding; a second fuzz finding, 341 bytes declaring 7680x4101 with an end marker).
  if (level < 0 && (cinfo->err->msg_code == JWRN_JPEG_EOF || cinfo->err->msg_code == JWRN_HIT_MARKER)) {
    jpeg_err_ctx *ctx = (jpeg_err_ctx *)cinfo->err;
    set_err(ctx->err, ctx->len, "truncated JPEG (the image data ends before the image does)");
    longjmp(ctx->jump, 1);
  }
}

static int decode_jpeg(FILE *f, int channels, uint8_t **pixels, int *width, int *height,
                       char *err, size_t err_len) {
  struct jpeg_decompress_struct cinfo;
  jpeg_err_ctx jerr;
  uint8_t *volatile out = NULL;
  cinfo.err = jpeg_std_error(&jerr.base);
  jerr.base.error_exit = jpeg_error_exit;
  jerr.base.emit_message = jpeg_quiet;
  jerr.err = err;
  jerr.len = err_len;
  if (setjmp(jerr.jump)) {
    jpeg_destroy_decompress(&cinfo);
    free(out);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, f);
  jpeg_read_header(&cinfo, TRUE);
  if ((uint64_t)cinfo.image_width * cinfo.image_height > GI_MAX_PIXELS) {
    snprintf(err, err_len, "image of %ux%u pixels exceeds the limit of %u pixels", (unsigned)cinfo.image_width,
             (unsigned)cinfo.image_height, (unsigned)GI_MAX_PIXELS);
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
  if (cinfo.output_components != channels) {
    set_err(err, err_len, "unsupported JPEG colour space");
    jpeg_destroy_decompress(&cinfo);
    return 1;
  }
  out = malloc((size_t)w * h * channels);
  if (!out) { set_err(err, err_len, "out of memory"); jpeg_destroy_decompress(&cinfo); return 1; }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out + (size_t)cinfo.output_scanline * w * channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  *pixels = out; *width = w; *height = h;
  return 0;
}

int gi_decode_file(const char *path, int channels, uint8_t **pixels, int *width, int *height,
                   char *err, size_t err_len) {
  if (channels != 1 && channels != 3) { set_err(err, err_len, "channels must be 1 or 3"); return 1; }
  FILE *f = fopen(path, "rb");
  if (!f) { set_err(err, err_len, strerror(errno)); return 1; }
  uint8_t magic[8] = {0};
  size_t got = fread(magic, 1, 8, f);
  rewind(f);
  int rc;
  if (got >= 8 && png_sig_cmp(magic, 0, 8) == 0) {
    rc = decode_png(f, channels, pixels, width, height, err, err_len);
  } else if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
    rc = decode_jpeg(f, channels, pixels, width, height, err, err_len);
  } else {
    set_err(err, err_len, got == 0 ? "empty file" : "not a PNG or JPEG file");
    rc = 1;
  }
  fclose(f);
  return rc;
}

// MARK: - gzip

int gi_read_gz(const char *path, size_t max_length, uint8_t **data, size_t *length, char *err, size_t err_len) {
  gzFile gz = gzopen(path, "rb");
  if (!gz) { set_err(err, err_len, strerror(errno)); return 1; }
  size_t cap = 1 << 20, len = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) { gzclose(gz); set_err(err, err_len, "out of memory"); return 1; }
  for (;;) {
    if (cap - len < (1 << 16)) {
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) { free(buf); gzclose(gz); set_err(err, err_len, "out of memory"); return 1; }
      buf = nb; cap *= 2;
    }
    int n = gzread(gz, buf + len, (unsigned)(cap - len));
    if (n < 0) {
      int code;
      const char *msg = gzerror(gz, &code);
      set_err(err, err_len, msg);
      free(buf); gzclose(gz);
      return 1;
    }
    if (n == 0) break;
    len += (size_t)n;
    if (len > max_length) {
      snprintf(err, err_len, "more than %zu bytes (the limit for this kind of file)", max_length);
      free(buf); gzclose(gz);
      return 1;
    }
  }
  gzclose(gz);
  *data = buf; *length = len;
  return 0;
}
