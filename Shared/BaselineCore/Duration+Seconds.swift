extension Duration {
    /// The duration in seconds, fractions included (for SQL intervals, rates and benchmarks).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
