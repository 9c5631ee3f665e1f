package bigbuf

import "syscall"

// madvHugepage is MADV_HUGEPAGE from <linux/mman.h>.
const madvHugepage = 14

// advise asks Linux to back a fresh buffer with transparent huge pages
// before data is written into it. A CT buffer is ~134 MB: in 4 KiB pages
// the kernel takes ~33,000 page faults (and as much zeroing) while it is
// filled, which costs more CPU than reading or decompressing the data;
// 2 MiB pages cut that by 512. The advice is only a hint, so failure is
// ignored.
func advise(b []byte) {
	_ = syscall.Madvise(b, madvHugepage)
}
