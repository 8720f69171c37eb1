/* printf family. Supports the conversions d i u x X o p s c %, the flags
 * - 0 + space #, width and precision (numbers or *), and the length
 * modifiers hh h l ll z t j. printf formats into one static buffer and
 * hands it to the kernel in a single write(1, ...) so that lines from
 * different processes never interleave mid-line. */
#include "vmuser.h"

#define PRINTF_BUFSIZE 1024

/* Output cursor: writes what fits (keeping room for the terminator) and
 * counts everything, as C's snprintf does. */
struct out {
  char *buf;
  size_t size;
  size_t len;
};

struct spec {
  bool left, zero, plus, space, alt;
  int width;
  int precision; /* -1 if none */
  int length;    /* 0 int, 1 long, 2 long long, -1 short, -2 char */
};

static void put_char(struct out *o, char c) {
  if (o->len + 1 < o->size)
    o->buf[o->len] = c;
  o->len++;
}

static void put_repeat(struct out *o, char c, int n) {
  for (; n > 0; n--)
    put_char(o, c);
}

/* Emits the string S (at most MAX bytes) padded to the spec's width. */
static void put_string(struct out *o, const char *s, int max,
                       const struct spec *sp) {
  if (s == NULL)
    s = "(null)";
  int n = 0;
  while ((max < 0 || n < max) && s[n] != '\0')
    n++;
  if (!sp->left)
    put_repeat(o, ' ', sp->width - n);
  for (int i = 0; i < n; i++)
    put_char(o, s[i]);
  if (sp->left)
    put_repeat(o, ' ', sp->width - n);
}

/* Emits VALUE in BASE with sign or prefix, precision and padding. */
static void put_number(struct out *o, uint64_t value, bool negative,
                       unsigned base, bool upper, const struct spec *sp,
                       const char *prefix) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int n = 0;
  while (value != 0) {
    tmp[n++] = digits[value % base];
    value /= base;
  }
  int min_digits = sp->precision >= 0 ? sp->precision : 1;
  int zeros = min_digits > n ? min_digits - n : 0;
  char sign = negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : '\0';
  int prefix_len = (int)strlen(prefix) + (sign != '\0');
  int pad = sp->width - prefix_len - zeros - n;
  if (sp->zero && !sp->left && sp->precision < 0) {
    zeros += pad > 0 ? pad : 0;
    pad = 0;
  }
  if (!sp->left)
    put_repeat(o, ' ', pad);
  if (sign != '\0')
    put_char(o, sign);
  for (; *prefix != '\0'; prefix++)
    put_char(o, *prefix);
  put_repeat(o, '0', zeros);
  while (n > 0)
    put_char(o, tmp[--n]);
  if (sp->left)
    put_repeat(o, ' ', pad);
}

/* Parses flags, width, precision and length at *FMT into SP. */
static void parse_spec(const char **fmt, va_list *ap, struct spec *sp) {
  const char *f = *fmt;
  *sp = (struct spec){.precision = -1};
  for (;; f++) {
    if (*f == '-') sp->left = true;
    else if (*f == '0') sp->zero = true;
    else if (*f == '+') sp->plus = true;
    else if (*f == ' ') sp->space = true;
    else if (*f == '#') sp->alt = true;
    else break;
  }
  if (*f == '*') {
    sp->width = va_arg(*ap, int);
    if (sp->width < 0) {
      sp->left = true;
      sp->width = -sp->width;
    }
    f++;
  } else {
    for (; *f >= '0' && *f <= '9'; f++)
      sp->width = sp->width * 10 + (*f - '0');
  }
  if (*f == '.') {
    f++;
    sp->precision = 0;
    if (*f == '*') {
      sp->precision = va_arg(*ap, int);
      f++;
    } else {
      for (; *f >= '0' && *f <= '9'; f++)
        sp->precision = sp->precision * 10 + (*f - '0');
    }
  }
  for (;; f++) {
    if (*f == 'h') sp->length--;
    else if (*f == 'l') sp->length++;
    else if (*f == 'z' || *f == 't' || *f == 'j') sp->length = 1;
    else break;
  }
  *fmt = f;
}

static int64_t signed_arg(va_list *ap, int length) {
  if (length >= 1)
    return length == 1 ? va_arg(*ap, long) : va_arg(*ap, long long);
  int v = va_arg(*ap, int);
  return length == -1 ? (short)v : length <= -2 ? (signed char)v : v;
}

static uint64_t unsigned_arg(va_list *ap, int length) {
  if (length >= 1)
    return length == 1 ? va_arg(*ap, unsigned long)
                       : va_arg(*ap, unsigned long long);
  unsigned v = va_arg(*ap, unsigned);
  return length == -1 ? (unsigned short)v
         : length <= -2 ? (unsigned char)v : v;
}

/* Formats one conversion CONV with spec SP, consuming its argument. */
static void format_one(struct out *o, char conv, const struct spec *sp,
                       va_list *ap) {
  uint64_t u;
  switch (conv) {
  case 'd':
  case 'i': {
    int64_t v = signed_arg(ap, sp->length);
    u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    put_number(o, u, v < 0, 10, false, sp, "");
    break;
  }
  case 'u':
    put_number(o, unsigned_arg(ap, sp->length), false, 10, false, sp, "");
    break;
  case 'x':
  case 'X':
    u = unsigned_arg(ap, sp->length);
    put_number(o, u, false, 16, conv == 'X', sp,
               sp->alt && u != 0 ? (conv == 'X' ? "0X" : "0x") : "");
    break;
  case 'o':
    u = unsigned_arg(ap, sp->length);
    put_number(o, u, false, 8, false, sp, sp->alt && u != 0 ? "0" : "");
    break;
  case 'p':
    put_number(o, (uint64_t)va_arg(*ap, void *), false, 16, false, sp, "0x");
    break;
  case 's':
    put_string(o, va_arg(*ap, const char *), sp->precision, sp);
    break;
  case 'c':
    if (!sp->left)
      put_repeat(o, ' ', sp->width - 1);
    put_char(o, (char)va_arg(*ap, int));
    if (sp->left)
      put_repeat(o, ' ', sp->width - 1);
    break;
  case '%':
    put_char(o, '%');
    break;
  default: /* unknown conversion: print it as is */
    put_char(o, '%');
    put_char(o, conv);
    break;
  }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list args) {
  struct out o = {buf, size, 0};
  va_list ap;
  va_copy(ap, args);
  while (*fmt != '\0') {
    if (*fmt != '%') {
      put_char(&o, *fmt++);
      continue;
    }
    fmt++;
    struct spec sp;
    parse_spec(&fmt, &ap, &sp);
    if (*fmt == '\0')
      break;
    format_one(&o, *fmt++, &sp, &ap);
  }
  va_end(ap);
  if (size > 0)
    buf[o.len < size ? o.len : size - 1] = '\0';
  return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

/* Output longer than PRINTF_BUFSIZE - 1 bytes is cut off at that size;
 * returns the number of bytes the kernel accepted. */
int printf(const char *fmt, ...) {
  static char buf[PRINTF_BUFSIZE];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof buf - 1)
    n = (int)sizeof buf - 1;
  return write(1, buf, (unsigned)n);
}
