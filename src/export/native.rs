//! The native profile as an export: the same TOML or JSON that `mailcfg` reads, so that export
//! then import gives back the same profile exactly.

use super::{ExportError, ExportFormat};
use crate::profile::{self, Format, Profile};

pub(super) fn toml(p: &Profile) -> Result<String, ExportError> {
    encode(p, Format::Toml, ExportFormat::Toml)
}

pub(super) fn json(p: &Profile) -> Result<String, ExportError> {
    encode(p, Format::Json, ExportFormat::Json)
}

fn encode(p: &Profile, format: Format, export: ExportFormat) -> Result<String, ExportError> {
    profile::to_string(p, format).map_err(|message| ExportError::Encode {
        format: export,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{load_str, presets};

    #[test]
    fn both_forms_read_back_equal() {
        let p = presets::microsoft365_profile();
        let t = toml(&p).unwrap();
        assert_eq!(load_str(&t, Format::Toml, "t", None).unwrap().0, p);
        let j = json(&p).unwrap();
        assert!(j.ends_with('\n'));
        assert_eq!(load_str(&j, Format::Json, "j", None).unwrap().0, p);
    }
}
