// Package phantom generates synthetic chest CT series in the LUNA16 layout,
// deterministically from a seed: the volumes (int16 HU) and the list files
// (the book's annotations_with_malignancy.csv, LUNA16's annotations.csv,
// candidates.csv, annotations_excluded.csv and seriesuids.csv).
//
// A phantom is a miniature of what the pipeline must cope with: body, fat
// and muscle, ribs, spine, heart, airways, two lungs with branching
// vessels that look like nodules in a slice, and nodules of 3–30 mm, some
// on the chest wall, in a field-of-view circle with out-of-field padding.
// Plan draws a series (cheap), Render draws its voxels (in parallel), and
// WriteDataset writes a whole data set. docs/mkphantom.md describes the
// anatomy, the files and the deliberately awkward series 0 and 1.
package phantom
