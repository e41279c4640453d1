import BaselineWire
import Foundation
import Testing

/// The topics and their partitions, as docs/deploy.md states them, are the ones every set-up creates.
@Suite struct TopicContractTests {
    @Test func docsDeployListsEveryTopicWithItsPartitions() throws {
        let doc = try RepositoryFiles.text("docs/deploy.md")
        var documented: [String: Int] = [:]
        for match in doc.matches(of: /(?m)^\| `([a-z.-]+)` \| ([0-9]+) \|/) {
            documented[String(match.1)] = Int(match.2)
        }
        let stack = try RepositoryFiles.stackTopics()
        #expect(documented == stack)
        #expect(Set(stack.keys) == Set(Topics.all))
    }
}
