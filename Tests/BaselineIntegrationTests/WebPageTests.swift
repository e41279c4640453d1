import BaselineAPI
import BaselinePostgres
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The Security Profiles page in a real browser: headless Chromium (Debian's chromium and
/// chromium-driver) driven by scripts/lib/browser_check.py against profile-api served on an
/// ephemeral port over the test database with seeded profile data. Screenshots are left in
/// .build/test-artifacts/web.
@Suite("Security Profiles page", .serialized)
struct WebPageTests {
    static let chromium = ProcessInfo.processInfo.environment["BASELINE_CHROMIUM"] ?? "/usr/bin/chromium"
    static let chromedriver = ProcessInfo.processInfo.environment["BASELINE_CHROMEDRIVER"] ?? "/usr/bin/chromedriver"

    @Test("the page shows the profiles, the tree with commonality and a node's panel, and accepts a suggestion")
    func pageInHeadlessChromium() async throws {
        for tool in [Self.chromium, Self.chromedriver] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw ToolFailure(description: "\(tool) is missing: the browser test needs Debian's chromium and chromium-driver "
                + "(scripts/setup installs them; BASELINE_CHROMIUM / BASELINE_CHROMEDRIVER point elsewhere)")
        }
        let python = try LiveProfileAPI.python()
        let out = try LiveProfileAPI.artifactsDirectory("web")
        let seed = ProfileAPISeed()
        try await TestStack.withDatabase { database in
            try await seed.write(database)
            try await LiveProfileAPI.run(client: database) { client, port in
                let script = LiveProfileAPI.packageRoot.appendingPathComponent("scripts/lib/browser_check.py").path
                let (status, output) = try await ToolProcess.run(python, [
                    script, "--url", "http://127.0.0.1:\(port)", "--token", LiveProfileAPI.writeToken, "--image", seed.image, "--tag", seed.tag,
                    "--root-key", seed.rootKey, "--child-key", seed.nginxKey, "--markup-key", seed.markupKey,
                    "--panel-file", "/etc/nginx/nginx.conf", "--suggestion", seed.suggestionID, "--out", out.path,
                ], environment: ["BASELINE_CHROMIUM": Self.chromium, "BASELINE_CHROMEDRIVER": Self.chromedriver, "SE_OFFLINE": "true"])
                print("WebPageTests: screenshots in \(out.path)")
                #expect(status == 0, "the browser check failed (screenshots and page in \(out.path)):\n\(output)")

                // The page's "Suppress Signals" created the suppression: ask the API, not the page.
                let response = try await client.execute(
                    uri: "/api/v1/suppressions?image=\(LiveProfileAPI.encoded(seed.image))&active=true", method: .get,
                    headers: [.authorization: "Bearer \(LiveProfileAPI.readToken)"])
                #expect(response.status == .ok)
                let page = try APICoding.decoder.decode(Page<SuppressionRow>.self, from: Data(response.body.readableBytesView))
                let suppression = page.items.first { $0.suggestionId == seed.suggestionID }
                #expect(suppression != nil, "no active suppression for \(seed.suggestionID) after accepting it in the page")
                #expect(suppression?.ruleId == seed.rule)
                #expect(suppression?.createdBy.hasPrefix("token:") == true, "the suppression records who accepted it")
            }
        }
    }
}
