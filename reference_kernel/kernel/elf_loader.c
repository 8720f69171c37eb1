/* ELF64 program loading (kernel/elf_loader.h). elf_inspect validates
 * everything before anything is mapped, so a corrupt file is an error
 * message, never a crash or a half-built address space the caller did not
 * expect. */
#include "kernel/elf_loader.h"

#include "arch/memlayout.h"
#include "kernel/file.h"
#include "kernel/process_memory.h"
#include "lib/string.h"

#define ET_EXEC 2
#define EM_X86_64 62
#define EV_CURRENT 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_SHLIB 5
#define PF_W 2

#define ELF_MAX_PHDRS 128

struct elf64_header {
  uint8_t ident[16]; /* \177ELF, class, data, version, ... */
  uint16_t type;
  uint16_t machine;
  uint32_t version;
  uint64_t entry;
  uint64_t phoff;
  uint64_t shoff;
  uint32_t flags;
  uint16_t ehsize;
  uint16_t phentsize;
  uint16_t phnum;
  uint16_t shentsize;
  uint16_t shnum;
  uint16_t shstrndx;
};

struct elf64_phdr {
  uint32_t type;
  uint32_t flags;
  uint64_t offset;
  uint64_t vaddr;
  uint64_t paddr;
  uint64_t filesz;
  uint64_t memsz;
  uint64_t align;
};

_Static_assert(sizeof(struct elf64_header) == 64, "ELF64 header size");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 phdr size");

/* Program segments must end below the stack region. */
#define PROGRAM_AREA_END (USER_STACK - USER_STACK_LIMIT)

static const char *check_header(const struct elf64_header *h,
                                off_t file_length) {
  if (memcmp(h->ident, "\177ELF", 4) != 0)
    return "not an ELF file";
  if (h->ident[4] != ELFCLASS64 || h->ident[5] != ELFDATA2LSB ||
      h->ident[6] != EV_CURRENT)
    return "not a little-endian ELF64 file";
  if (h->type != ET_EXEC)
    return "not an executable (ET_EXEC)";
  if (h->machine != EM_X86_64)
    return "not an x86-64 program";
  if (h->version != EV_CURRENT)
    return "unknown ELF version";
  if (h->phentsize != sizeof(struct elf64_phdr))
    return "bad program header size";
  if (h->phnum == 0 || h->phnum > ELF_MAX_PHDRS)
    return "bad program header count";
  uint64_t table_bytes = (uint64_t)h->phnum * sizeof(struct elf64_phdr);
  if (h->phoff > (uint64_t)file_length ||
      table_bytes > (uint64_t)file_length - h->phoff)
    return "program headers lie beyond the end of the file";
  return NULL;
}

/* Why PH, a PT_LOAD header, cannot be loaded; NULL if it can. */
static const char *check_load_phdr(const struct elf64_phdr *ph,
                                   off_t file_length) {
  if ((ph->offset & PGMASK) != (ph->vaddr & PGMASK))
    return "segment offset and address differ within the page";
  if (ph->offset > (uint64_t)file_length ||
      ph->filesz > (uint64_t)file_length - ph->offset)
    return "segment lies beyond the end of the file";
  if (ph->memsz < ph->filesz)
    return "segment memory size below its file size";
  if (ph->memsz == 0)
    return "empty segment";
  if (ph->vaddr < PGSIZE)
    return "segment maps page 0";
  if (ph->vaddr >= PROGRAM_AREA_END ||
      ph->memsz > PROGRAM_AREA_END - ph->vaddr)
    return "segment not between page 1 and the stack region";
  return NULL;
}

/* Converts a checked PT_LOAD header into page units. */
static struct elf_segment to_segment(const struct elf64_phdr *ph) {
  size_t page_offset = ph->vaddr & PGMASK;
  size_t span = (page_offset + ph->memsz + PGMASK) & ~PGMASK;
  struct elf_segment s = {
      .file_page = (off_t)(ph->offset & ~PGMASK),
      .upage = ph->vaddr & ~PGMASK,
      .read_bytes = ph->filesz > 0 ? page_offset + ph->filesz : 0,
      .writable = (ph->flags & PF_W) != 0};
  s.zero_bytes = span - s.read_bytes;
  return s;
}

/* Adds PH (a checked PT_LOAD header) to IMAGE; segments must come in
 * address order without sharing a page. */
static const char *add_segment(struct elf_image *image,
                               const struct elf64_phdr *ph) {
  if (image->segment_count == ELF_MAX_SEGMENTS)
    return "too many loadable segments";
  struct elf_segment s = to_segment(ph);
  if (image->segment_count > 0) {
    const struct elf_segment *prev = &image->segments[image->segment_count - 1];
    if (s.upage < prev->upage + prev->read_bytes + prev->zero_bytes)
      return "segments overlap or are out of address order";
  }
  image->segments[image->segment_count++] = s;
  return NULL;
}

/* Reads and checks program header IDX, adding it to IMAGE if loadable. */
static const char *inspect_phdr(struct file *file,
                                const struct elf64_header *h, int idx,
                                off_t file_length, struct elf_image *image) {
  struct elf64_phdr ph;
  off_t at = (off_t)(h->phoff + (uint64_t)idx * sizeof ph);
  if (file_read_at(file, &ph, sizeof ph, at) != (off_t)sizeof ph)
    return "cannot read a program header";
  switch (ph.type) {
  case PT_DYNAMIC:
  case PT_INTERP:
  case PT_SHLIB:
    return "dynamically linked programs are not supported";
  case PT_LOAD: {
    const char *why = check_load_phdr(&ph, file_length);
    return why != NULL ? why : add_segment(image, &ph);
  }
  default:
    return NULL; /* notes, GNU_STACK, ...: nothing to load */
  }
}

static bool entry_in_segment(const struct elf_image *image) {
  for (int i = 0; i < image->segment_count; i++) {
    const struct elf_segment *s = &image->segments[i];
    if (image->entry >= s->upage &&
        image->entry - s->upage < s->read_bytes + s->zero_bytes)
      return true;
  }
  return false;
}

const char *elf_inspect(struct file *file, struct elf_image *image) {
  struct elf64_header h;
  off_t length = file_length(file);
  if (file_read_at(file, &h, sizeof h, 0) != (off_t)sizeof h)
    return "file too short for an ELF header";
  const char *why = check_header(&h, length);
  if (why != NULL)
    return why;
  image->entry = h.entry;
  image->segment_count = 0;
  for (int i = 0; i < h.phnum; i++)
    if ((why = inspect_phdr(file, &h, i, length, image)) != NULL)
      return why;
  if (image->segment_count == 0)
    return "no loadable segment";
  if (!entry_in_segment(image))
    return "entry point outside the loaded segments";
  return NULL;
}

bool elf_load_segments(struct file *file, const struct elf_image *image) {
  for (int i = 0; i < image->segment_count; i++) {
    const struct elf_segment *s = &image->segments[i];
    if (!load_segment(file, s->file_page, (void *)s->upage, s->read_bytes,
                      s->zero_bytes, s->writable))
      return false;
  }
  return true;
}
