fn main() {
    std::process::exit(psyche_runbook::run(std::env::args_os()));
}
