/* printf-style formatting shared by the console and snprintf. */
#include <stdbool.h>
#include <stdint.h>

#include "lib/stdio.h"
#include "lib/string.h"

struct spec {
  bool left, zero;
  int width, precision; /* precision -1: none */
  int length;           /* 0: int, 1: long, 2: long long, 3: size_t */
};

static int emit(void (*out)(char, void *), void *aux, const char *s, int n,
                const struct spec *sp) {
  int pad = sp->width > n ? sp->width - n : 0, cnt = 0;
  char padc = sp->zero && !sp->left ? '0' : ' ';
  if (!sp->left)
    for (; pad > 0; pad--, cnt++)
      out(padc, aux);
  for (int i = 0; i < n; i++, cnt++)
    out(s[i], aux);
  for (; pad > 0; pad--, cnt++)
    out(' ', aux);
  return cnt;
}

/* Formats unsigned V in BASE into the end of BUF[24]; returns the start. */
static char *utoa(uint64_t v, int base, bool upper, char *buf_end) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char *p = buf_end;
  do {
    *--p = digits[v % base];
    v /= base;
  } while (v);
  return p;
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap) {
  *sp = (struct spec){.precision = -1};
  for (;; f++) {
    if (*f == '-')
      sp->left = true;
    else if (*f == '0')
      sp->zero = true;
    else
      break;
  }
  if (*f == '*') {
    sp->width = va_arg(*ap, int);
    f++;
  }
  while (*f >= '0' && *f <= '9')
    sp->width = sp->width * 10 + (*f++ - '0');
  if (*f == '.') {
    sp->precision = 0;
    for (f++; *f >= '0' && *f <= '9'; f++)
      sp->precision = sp->precision * 10 + (*f - '0');
  }
  if (*f == 'l') {
    sp->length = 1;
    if (*++f == 'l') {
      sp->length = 2;
      f++;
    }
  } else if (*f == 'z') {
    sp->length = 3;
    f++;
  }
  return f;
}

static int format_number(void (*out)(char, void *), void *aux, char conv,
                         const struct spec *sp, va_list *ap) {
  char buf[24], *end = buf + sizeof buf, *s;
  bool neg = false;
  uint64_t u;
  if (conv == 'd' || conv == 'i') {
    int64_t v = sp->length == 0 ? va_arg(*ap, int) : va_arg(*ap, int64_t);
    neg = v < 0;
    u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  } else if (conv == 'p') {
    u = (uintptr_t)va_arg(*ap, void *);
  } else {
    u = sp->length == 0 ? va_arg(*ap, unsigned) : va_arg(*ap, uint64_t);
  }
  int base = (conv == 'x' || conv == 'X' || conv == 'p') ? 16 : 10;
  s = utoa(u, base, conv == 'X', end);
  if (conv == 'p') {
    *--s = 'x';
    *--s = '0';
  }
  if (neg)
    *--s = '-';
  return emit(out, aux, s, (int)(end - s), sp);
}

int format_stream(void (*out)(char, void *), void *aux, const char *f,
                  va_list ap_in) {
  va_list ap;
  va_copy(ap, ap_in);
  int cnt = 0;
  for (; *f; f++) {
    if (*f != '%') {
      out(*f, aux);
      cnt++;
      continue;
    }
    struct spec sp;
    f = parse_spec(f + 1, &sp, &ap);
    switch (*f) {
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'p':
      cnt += format_number(out, aux, *f, &sp, &ap);
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (s == NULL)
        s = "(null)";
      int n = sp.precision >= 0 ? (int)strnlen(s, sp.precision) : (int)strlen(s);
      cnt += emit(out, aux, s, n, &sp);
      break;
    }
    case 'c': {
      char c = (char)va_arg(ap, int);
      cnt += emit(out, aux, &c, 1, &sp);
      break;
    }
    case '%':
      out('%', aux);
      cnt++;
      break;
    default: /* unknown conversion: print it literally */
      out('%', aux);
      cnt++;
      if (!*f)
        f--;
      else
        out(*f, aux), cnt++;
    }
  }
  va_end(ap);
  return cnt;
}

struct buf_aux {
  char *buf;
  size_t size, len;
};

static void buf_out(char c, void *aux_) {
  struct buf_aux *aux = aux_;
  if (aux->len + 1 < aux->size)
    aux->buf[aux->len] = c;
  aux->len++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  struct buf_aux aux = {buf, size, 0};
  int n = format_stream(buf_out, &aux, fmt, ap);
  if (size > 0)
    buf[aux.len < size ? aux.len : size - 1] = '\0';
  return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}
