extension ConfigurationRegistry {
    /// The variables as the table in docs/configuration.md (a test keeps the doc equal to this):
    /// one row per variable and default, naming the services that read it.
    public static func markdownTable() -> String {
        var rows: [(variable: ConfigurationVariable, services: [BaselineServiceName])] = []
        for service in BaselineServiceName.allCases {
            for variable in variables(for: service) {
                if let i = rows.firstIndex(where: { $0.variable == variable }) {
                    rows[i].services.append(service)
                } else {
                    rows.append((variable, [service]))
                }
            }
        }
        var lines = [
            "| variable | services | default | values | meaning |",
            "|---|---|---|---|---|",
        ]
        for (variable, services) in rows {
            let who = services.count == BaselineServiceName.allCases.count ? "all" : services.map(\.rawValue).joined(separator: ", ")
            var meaning = variable.description
            if variable.required {
                let instead = variable.alternative.map { " (or `\($0)`)" } ?? ""
                meaning = "**Set it in every deployment**\(instead): " + meaning
            }
            let cells = ["`\(variable.name)`", who, variable.defaultValue.map { "`\($0)`" } ?? "—", values(variable.kind), meaning]
            lines.append("| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func values(_ kind: ConfigurationVariable.Kind) -> String {
        switch kind {
        case .integer(let range): "integer \(range.lowerBound)…\(range.upperBound)"
        case .number(let range): "number \(range.lowerBound)…\(range.upperBound)"
        case .boolean: "true or false"
        case .text: "text"
        }
    }
}
