//! The README says what the program does today: its key table is the key map's own rows, and
//! every option `--help` lists is in its options table.

use std::process::Command;

use minibrowse::tui::keys::BINDINGS;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README")
}

/// The key table as the key map would write it.
fn key_table() -> String {
    let mut table = String::from("| Keys | Action | Where |\n| --- | --- | --- |\n");
    for b in BINDINGS {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            b.keys,
            b.action,
            b.scope.title()
        ));
    }
    table
}

#[test]
fn the_readme_key_table_is_the_key_map() {
    let readme = readme();
    let expected = key_table();
    assert!(
        readme.contains(&expected),
        "README's key table differs from src/tui/keys.rs; it should read:\n{expected}"
    );
}

/// The long options `--help` lists for a command.
fn options_of(args: &[&str]) -> Vec<String> {
    let help = Command::new(env!("CARGO_BIN_EXE_minibrowse"))
        .args(args)
        .arg("--help")
        .output()
        .expect("minibrowse --help");
    String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .filter_map(|word| {
            let option = word.trim_end_matches(',');
            let name = option.strip_prefix("--")?;
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                .then(|| option.to_string())
        })
        .filter(|o| o != "--help" && o != "--version")
        .collect()
}

#[test]
fn every_option_of_help_is_in_the_readme() {
    let readme = readme();
    let options = readme
        .split("## Options")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("an Options section");
    for command in [
        vec![],
        vec!["serve"],
        vec!["demo"],
        vec!["chat"],
        vec!["ws"],
    ] {
        for option in options_of(&command) {
            assert!(
                options.contains(&format!("`{option}")) || options.contains(&format!(" {option} ")),
                "`minibrowse {} --help` lists {option}, the README's options section does not",
                command.join(" ")
            );
        }
    }
}
