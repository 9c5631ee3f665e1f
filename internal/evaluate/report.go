package evaluate

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"time"

	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/froc"
	"github.com/ctseg/ctseg/internal/version"
)

// reportIndex is the report's page.
func reportIndex(dir string) string { return filepath.Join(dir, "index.html") }

// reportData is what the page template shows.
type reportData struct {
	Model, Version, Created string
	Threshold               float64
	R                       *Result
	TPPct, FNPct, FPPct     float64
	Top                     []shownImage
	TopWanted               int
	FROC                    *FROCSummary
	FROCPlot                string
	Rows                    []frocRow
}

type shownImage struct {
	shownSlice
	File string
}

type frocRow struct {
	Rate, Sens float64
	Low, High  *float64
}

// writeReport writes dir/index.html with its images: the FROC plot
// (froc.png) and the overlays of the slices with the most missed pixels
// (slices/NN.png, named by rank: a uid never becomes a path here).
func writeReport(dir string, r *Result, top []shownSlice, fr *froc.Result, o Options) error {
	if err := os.MkdirAll(filepath.Join(dir, "slices"), 0o755); err != nil {
		return err
	}
	d := reportData{Model: o.Model, Version: version.String(), Created: time.Now().UTC().Format(time.RFC3339),
		Threshold: o.Threshold, R: r, TopWanted: o.ReportTop, FROC: r.FROC}
	s := r.summary
	d.TPPct, d.FNPct, d.FPPct = s.TPPct, s.FNPct, s.FPPct
	for i, t := range top {
		name := fmt.Sprintf("slices/%02d.png", i+1)
		if err := atomicfile.WriteFile(filepath.Join(dir, name), t.png); err != nil {
			return err
		}
		d.Top = append(d.Top, shownImage{shownSlice: t, File: name})
	}
	if f := r.FROC; f != nil {
		for i := range f.Rates {
			row := frocRow{Rate: f.Rates[i], Sens: f.Sensitivity[i]}
			if f.CILow != nil {
				row.Low, row.High = &f.CILow[i], &f.CIHigh[i]
			}
			d.Rows = append(d.Rows, row)
		}
		if fr.Nodules > 0 {
			var buf bytes.Buffer
			if err := froc.WritePNG(&buf, "segeval", fr); err != nil {
				return err
			}
			if err := atomicfile.WriteFile(filepath.Join(dir, "froc.png"), buf.Bytes()); err != nil {
				return err
			}
			d.FROCPlot = "froc.png"
		}
	}
	var page bytes.Buffer
	if err := reportPage.Execute(&page, d); err != nil {
		return err
	}
	return atomicfile.WriteFile(reportIndex(dir), page.Bytes())
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"f4":  func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"f1":  func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"pct": func(v float64) string { return fmt.Sprintf("%.1f %%", v) },
	"deref": func(v any) any {
		switch p := v.(type) {
		case *int:
			return *p
		case *float64:
			return *p
		}
		return v
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>segeval report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.meta { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { padding: 0.2em 0.7em; text-align: right; border-bottom: 1px solid #eee; }
th { background: #f4f4f4; }
td.uid, th.uid { text-align: left; font-family: monospace; font-size: 0.85em; word-break: break-all; min-width: 16em; }
.wide { overflow-x: auto; }
img.plot { max-width: 720px; width: 100%; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; width: 256px; }
figure img { width: 256px; image-rendering: pixelated; border: 1px solid #ccc; }
figcaption { font-size: 0.8em; word-break: break-all; }
.key span { display: inline-block; width: 0.9em; height: 0.9em; vertical-align: middle; margin: 0 0.3em 0 1em; }
</style>
</head>
<body>
<h1>segeval report</h1>
<p class="meta">model {{.Model}} · probability threshold {{.Threshold}} · {{.R.Slices}} slices of {{len .R.PerSeries}} series ({{.R.LabelledSlices}} labelled) · segeval {{.Version}} · {{.Created}}</p>

<h2>Pixels</h2>
{{if .R.LabelledSlices}}
<table>
<tr><th>loss</th><th>precision</th><th>recall</th><th>F1</th><th>TP</th><th>FN</th><th>FP</th><th>TP %</th><th>FN %</th><th>FP %</th></tr>
<tr><td>{{f4 .R.Loss}}</td><td>{{f4 .R.Precision}}</td><td>{{f4 .R.Recall}}</td><td>{{f4 .R.F1}}</td>
<td>{{.R.TP}}</td><td>{{.R.FN}}</td><td>{{.R.FP}}</td><td>{{pct .TPPct}}</td><td>{{pct .FNPct}}</td><td>{{pct .FPPct}}</td></tr>
</table>
<p class="meta">The book's metrics over the labelled slices' pixels (padding excluded): loss is the mean per-slice 1 − Dice;
percentages are of the labelled pixels (TP + FN).</p>
{{else}}<p>No labelled slices: pixel metrics skipped.</p>{{end}}

{{with .R.Nodules}}
<h2>Nodules</h2>
<table>
<tr><th>nodules</th><th>found</th><th>recall</th><th>candidates per scan</th><th>marks per scan</th><th>scans</th></tr>
<tr><td>{{.Total}}</td><td>{{.Found}}</td><td>{{f4 .Recall}}</td><td>{{f1 (deref $.R.CandidatesPerScan)}}</td><td>{{f1 $.R.MarksPerScan}}</td><td>{{$.R.Scans}}</td></tr>
</table>
<p class="meta">Candidates of the whole CTs (threshold, erosion, 6-connected components); a nodule is found when a
candidate lies within 0.7 of its diameter (the book's rule). Marks are the candidates kept for the submission.</p>
{{end}}

{{with .FROC}}
<h2>LUNA16 FROC</h2>
<p><b>CPM {{f4 .CPM}}</b>{{with .CPMCI}} (95 % CI {{f4 (index . 0)}} – {{f4 (index . 1)}}){{end}}:
{{.Detected}} of {{.Nodules}} nodules detected, {{.FalsePositives}} false positives, {{.Candidates}} marks on {{.Scans}} scans.</p>
<table>
<tr><th>FPs per scan</th>{{range $.Rows}}<td>{{.Rate}}</td>{{end}}</tr>
<tr><th>sensitivity</th>{{range $.Rows}}<td>{{f4 .Sens}}</td>{{end}}</tr>
{{if .CILow}}<tr><th>95 % CI</th>{{range $.Rows}}<td>{{f4 (deref .Low)}} – {{f4 (deref .High)}}</td>{{end}}</tr>{{end}}
</table>
{{if $.FROCPlot}}<p><img class="plot" src="{{$.FROCPlot}}" alt="FROC curve"></p>{{end}}
{{end}}

<h2>Series</h2>
<div class="wide"><table>
<tr><th class="uid">series</th><th>slices</th><th>loss</th><th>precision</th><th>recall</th><th>F1</th><th>TP</th><th>FN</th><th>FP</th><th>candidates</th><th>marks</th><th>nodules found</th></tr>
{{range .R.PerSeries}}<tr><td class="uid">{{.SeriesUID}}</td><td>{{.Slices}}</td>
{{with .Pixels}}<td>{{f4 .Loss}}</td><td>{{f4 .Precision}}</td><td>{{f4 .Recall}}</td><td>{{f4 .F1}}</td><td>{{.TP}}</td><td>{{.FN}}</td><td>{{.FP}}</td>
{{else}}<td colspan="7">no label</td>{{end}}
{{if .WholeCT}}<td>{{deref .Candidates}}</td><td>{{deref .Marks}}</td><td>{{deref .NodulesFound}} / {{deref .Nodules}}</td>
{{else}}<td colspan="3">not a whole CT</td>{{end}}</tr>
{{end}}
</table></div>

<h2>Slices with the most missed pixels</h2>
<p class="key">Overlay on the centre slice:<span style="background:#7fff7f"></span>true positive
<span style="background:#ffbf7f"></span>missed (false negative)<span style="background:#ff7f7f"></span>false positive</p>
{{if .Top}}<div class="grid">
{{range .Top}}<figure><img src="{{.File}}" alt="slice {{.Index}}"><figcaption>{{.UID}} · slice {{.Index}}<br>
{{.FN}} missed, {{.TP}} found, {{.FP}} false positive pixels</figcaption></figure>
{{end}}</div>
{{else if .TopWanted}}<p>No slice has missed pixels.</p>{{else}}<p>None shown (--report-top 0).</p>{{end}}
</body>
</html>
`))
