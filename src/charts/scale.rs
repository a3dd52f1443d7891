//! Axis maths shared by the charts: "nice" tick steps and value-to-pixel scales (pure).

/// Ticks from 0 to at least `max`, about `count` of them, on steps of 1, 2 or 5 × 10^k.
pub fn nice_ticks(max: f64, count: usize) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let raw = max / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|factor| factor * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude);
    let steps = (max / step).ceil() as usize;
    (0..=steps.max(1))
        .map(|index| index as f64 * step)
        .collect()
}

/// Maps a value range onto a pixel range linearly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Linear {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Linear {
    pub fn map(&self, value: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if (d1 - d0).abs() < f64::EPSILON {
            return r0;
        }
        r0 + (value - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// Maps positive values onto a pixel range on a log10 scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Log {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Log {
    pub fn map(&self, value: f64) -> f64 {
        let linear = Linear {
            domain: (
                self.domain.0.max(1e-9).log10(),
                self.domain.1.max(1e-9).log10(),
            ),
            range: self.range,
        };
        linear.map(value.max(1e-9).log10())
    }

    /// Round values (1, 2, 5 × 10^k) inside the domain, for labels.
    pub fn ticks(&self) -> Vec<f64> {
        let (low, high) = self.domain;
        let mut ticks = Vec::new();
        let mut decade = 10f64.powf(low.max(1e-9).log10().floor());
        while decade <= high {
            for factor in [1.0, 2.0, 5.0] {
                let tick = decade * factor;
                if tick >= low && tick <= high {
                    ticks.push(tick);
                }
            }
            decade *= 10.0;
        }
        ticks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            nice_ticks(95.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(nice_ticks(7.0, 4), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(0.0, 4), vec![0.0, 1.0]);
        let big = nice_ticks(12_345.0, 4);
        assert_eq!(big.last(), Some(&15_000.0));
    }

    #[test]
    fn scales_map_ends_to_ends() {
        let y = Linear {
            domain: (0.0, 100.0),
            range: (200.0, 0.0),
        };
        assert_eq!(y.map(0.0), 200.0);
        assert_eq!(y.map(50.0), 100.0);
        let x = Log {
            domain: (10.0, 1000.0),
            range: (0.0, 100.0),
        };
        assert!((x.map(100.0) - 50.0).abs() < 1e-9);
        assert_eq!(
            x.ticks(),
            vec![10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
        );
    }
}
