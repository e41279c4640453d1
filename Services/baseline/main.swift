import ArgumentParser

@main
struct BaselineCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Baseline: security profiles for container workloads.",
        subcommands: [])
}
