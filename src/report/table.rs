//! A table of strings rendered as Markdown or as a LaTeX `table` a paper can `\input`.

/// One table: caption, LaTeX label, header and rows of cells (plain text; rendering escapes).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub caption: String,
    pub label: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(caption: &str, label: &str, header: &[&str]) -> Table {
        Table { caption: caption.to_string(), label: label.to_string(), header: header.iter().map(|h| h.to_string()).collect(), rows: vec![] }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(cells.len(), self.header.len(), "a row of {} cells in a table of {} columns", cells.len(), self.header.len());
        self.rows.push(cells);
    }

    pub fn to_markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.iter().map(|c| c.replace('|', "\\|")).collect::<Vec<_>>().join(" | "));
        let mut md = format!("**{}**\n\n", self.caption);
        md.push_str(&line(&self.header));
        md.push_str(&format!("|{}\n", "---|".repeat(self.header.len())));
        for r in &self.rows {
            md.push_str(&line(r));
        }
        md
    }

    /// A `table` environment with a `tabular` (first column left, the rest right), booktabs
    /// rules, the caption and `\label{tab:<label>}`.
    pub fn to_latex(&self) -> String {
        let line = |cells: &[String]| format!("{} \\\\\n", cells.iter().map(|c| latex_escape(c)).collect::<Vec<_>>().join(" & "));
        let mut tex = String::from("\\begin{table}[t]\n\\centering\n\\small\n");
        tex.push_str(&format!("\\begin{{tabular}}{{l{}}}\n\\toprule\n", "r".repeat(self.header.len().saturating_sub(1))));
        tex.push_str(&line(&self.header));
        tex.push_str("\\midrule\n");
        for r in &self.rows {
            tex.push_str(&line(r));
        }
        tex.push_str("\\bottomrule\n\\end{tabular}\n");
        tex.push_str(&format!("\\caption{{{}}}\n\\label{{tab:{}}}\n\\end{{table}}\n", latex_escape(&self.caption), self.label));
        tex
    }
}

/// Text as LaTeX: its special characters escaped, the symbols the tables use as math.
pub fn latex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '`' => {}
            '—' => out.push_str("---"),
            '→' => out.push_str("$\\rightarrow$"),
            '↑' => out.push_str("$\\uparrow$"),
            '↓' => out.push_str("$\\downarrow$"),
            '≥' => out.push_str("$\\geq$"),
            '≤' => out.push_str("$\\leq$"),
            '−' => out.push_str("$-$"),
            '·' => out.push_str("$\\cdot$"),
            'α' => out.push_str("$\\alpha$"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_latex_render_the_same_cells() {
        let mut t = Table::new("Alignment: 1D vs 2D", "alignment", &["metric", "initial", "final"]);
        t.row(vec!["`align_1d_key`".to_string(), "0.1".to_string(), "0.9 ↑".to_string()]);
        let md = t.to_markdown();
        assert!(md.contains("| metric | initial | final |\n|---|---|---|\n| `align_1d_key` | 0.1 | 0.9 ↑ |"), "{md}");
        let tex = t.to_latex();
        assert!(tex.contains("\\begin{tabular}{lrr}"), "{tex}");
        assert!(tex.contains("align\\_1d\\_key & 0.1 & 0.9 $\\uparrow$ \\\\"), "{tex}");
        assert!(tex.contains("\\label{tab:alignment}"));
        assert_eq!(latex_escape("50% & a_b ≥ 1"), "50\\% \\& a\\_b $\\geq$ 1");
    }
}
