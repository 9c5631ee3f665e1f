package metaimage

import "syscall"

// madvHugepage is MADV_HUGEPAGE from <linux/mman.h>.
const madvHugepage = 14

// adviseHuge asks Linux to back a fresh voxel buffer with transparent huge
// pages before the data is read into it. A CT buffer is ~134 MB: in 4 KiB
// pages the kernel takes ~33,000 page faults (and as much zeroing) during
// the read, which costs more CPU than the read itself; 2 MiB pages cut
// that by 512. The advice is only a hint, so failure is ignored.
func adviseHuge(b []byte) {
	_ = syscall.Madvise(b, madvHugepage)
}
