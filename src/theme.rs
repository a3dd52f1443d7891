//! Light, dark or system theme, and the chart colours of each (pure).

use plotters::style::RGBColor;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ThemeChoice {
    Light,
    Dark,
    #[default]
    System,
}

impl ThemeChoice {
    pub const ALL: [ThemeChoice; 3] = [Self::Light, Self::Dark, Self::System];

    pub fn key(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
            Self::System => "system",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Light => "Light",
            Self::Dark => "Dark",
            Self::System => "System",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|choice| choice.key() == key)
    }

    /// Dark or not, given whether the system prefers dark.
    pub fn is_dark(self, system_dark: bool) -> bool {
        match self {
            Self::Light => false,
            Self::Dark => true,
            Self::System => system_dark,
        }
    }
}

/// Colours the charts draw with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartTheme {
    pub background: RGBColor,
    pub text: RGBColor,
    pub muted: RGBColor,
    pub grid: RGBColor,
    pub offered: RGBColor,
    pub accepted: RGBColor,
    pub edited: RGBColor,
    pub rejected: RGBColor,
    pub other: RGBColor,
    pub rate: RGBColor,
    pub bar: RGBColor,
    pub highlight: RGBColor,
    pub marker: RGBColor,
    /// CSS font family for canvas text.
    pub font: &'static str,
}

impl ChartTheme {
    pub fn new(dark: bool) -> Self {
        if dark {
            Self {
                background: RGBColor(0x17, 0x1b, 0x22),
                text: RGBColor(0xe6, 0xe9, 0xef),
                muted: RGBColor(0x9a, 0xa4, 0xb2),
                grid: RGBColor(0x2c, 0x33, 0x3d),
                offered: RGBColor(0x5b, 0x8d, 0xef),
                accepted: RGBColor(0x3f, 0xb9, 0x8a),
                edited: RGBColor(0xe0, 0xb0, 0x4a),
                rejected: RGBColor(0xe5, 0x6b, 0x6f),
                other: RGBColor(0x8a, 0x93, 0xa3),
                rate: RGBColor(0xf2, 0xf4, 0xf8),
                bar: RGBColor(0x7a, 0x9c, 0xf5),
                highlight: RGBColor(0xf5, 0xa6, 0x23),
                marker: RGBColor(0xf2, 0x8b, 0x5a),
                font: "system-ui, sans-serif",
            }
        } else {
            Self {
                background: RGBColor(0xff, 0xff, 0xff),
                text: RGBColor(0x1d, 0x23, 0x2c),
                muted: RGBColor(0x5f, 0x6b, 0x7a),
                grid: RGBColor(0xe6, 0xe9, 0xee),
                offered: RGBColor(0x33, 0x66, 0xcc),
                accepted: RGBColor(0x1f, 0x9d, 0x6b),
                edited: RGBColor(0xd4, 0x94, 0x1c),
                rejected: RGBColor(0xcc, 0x45, 0x4a),
                other: RGBColor(0x8a, 0x93, 0xa3),
                rate: RGBColor(0x1d, 0x23, 0x2c),
                bar: RGBColor(0x44, 0x6f, 0xd8),
                highlight: RGBColor(0xe0, 0x8a, 0x00),
                marker: RGBColor(0xc2, 0x41, 0x0c),
                font: "system-ui, sans-serif",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices() {
        assert!(ThemeChoice::System.is_dark(true));
        assert!(!ThemeChoice::Light.is_dark(true));
        assert_eq!(ThemeChoice::from_key("dark"), Some(ThemeChoice::Dark));
        assert_ne!(ChartTheme::new(true), ChartTheme::new(false));
    }
}
