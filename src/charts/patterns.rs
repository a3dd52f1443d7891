//! Hatching, so the stacked event types differ by more than colour: each kind's stripes as
//! line segments clipped to a bar's rectangle (pure geometry, in pixels, y down).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hatch {
    /// No stripes (offered: the base of every bar).
    Solid,
    /// "/" stripes (accepted).
    Rising,
    /// Horizontal stripes (edited).
    Level,
    /// "\" stripes (rejected).
    Falling,
}

/// The stripes of `hatch` inside the rectangle `(left, top, right, bottom)`, `spacing`
/// pixels apart. Nothing for a rectangle too small to show them.
pub fn stripes(hatch: Hatch, rect: (f64, f64, f64, f64), spacing: f64) -> Vec<[(f64, f64); 2]> {
    let (left, top, right, bottom) = rect;
    if right - left < 4.0 || bottom - top < 3.0 || spacing <= 0.0 {
        return Vec::new();
    }
    let mut lines = Vec::new();
    match hatch {
        Hatch::Solid => {}
        Hatch::Level => {
            let mut y = top + spacing / 2.0;
            while y < bottom {
                lines.push([(left, y), (right, y)]);
                y += spacing;
            }
        }
        Hatch::Rising => {
            // Lines x + y = c: from the top-left corner to the bottom-right one.
            let mut c = left + top + spacing / 2.0;
            while c < right + bottom {
                let (from, to) = ((left).max(c - bottom), (right).min(c - top));
                if from < to {
                    lines.push([(from, c - from), (to, c - to)]);
                }
                c += spacing;
            }
        }
        Hatch::Falling => {
            // Lines x - y = c.
            let mut c = left - bottom + spacing / 2.0;
            while c < right - top {
                let (from, to) = ((left).max(c + top), (right).min(c + bottom));
                if from < to {
                    lines.push([(from, from - c), (to, to - c)]);
                }
                c += spacing;
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(rect: (f64, f64, f64, f64), (x, y): (f64, f64)) -> bool {
        let eps = 1e-9;
        x >= rect.0 - eps && x <= rect.2 + eps && y >= rect.1 - eps && y <= rect.3 + eps
    }

    #[test]
    fn stripes_stay_inside_their_bar_and_have_their_slope() {
        let rect = (10.0, 20.0, 30.0, 80.0);
        for (hatch, slope) in [
            (Hatch::Rising, -1.0),
            (Hatch::Falling, 1.0),
            (Hatch::Level, 0.0),
        ] {
            let lines = stripes(hatch, rect, 5.0);
            assert!(lines.len() > 5, "{hatch:?}: {}", lines.len());
            for [a, b] in lines {
                assert!(inside(rect, a) && inside(rect, b), "{hatch:?} {a:?} {b:?}");
                let dx = b.0 - a.0;
                assert!(dx > 0.0);
                assert!(((b.1 - a.1) / dx - slope).abs() < 1e-9, "{hatch:?}");
            }
        }
    }

    #[test]
    fn solid_and_tiny_bars_get_no_stripes() {
        assert!(stripes(Hatch::Solid, (0.0, 0.0, 50.0, 50.0), 5.0).is_empty());
        assert!(stripes(Hatch::Rising, (0.0, 0.0, 2.0, 50.0), 5.0).is_empty());
        assert!(stripes(Hatch::Level, (0.0, 0.0, 50.0, 1.0), 5.0).is_empty());
    }
}
