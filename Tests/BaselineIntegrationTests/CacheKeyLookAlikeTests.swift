@testable import BaselinePipeline
import Testing

/// Attack shape: an image named like another one ("\u{212A}iosk", KELVIN SIGN, for "Kiosk") must
/// not be served, or merged into, the other workload's cached version: Swift's String equality
/// would take them for one (Unicode canonical equivalence), PostgreSQL does not.
@Suite struct CacheKeyLookAlikeTests {
    @Test func versionCacheKeysCompareByBytes() {
        let real = VersionCache.Key(profileKey: "Kiosk", imageTag: "1"), lookAlike = VersionCache.Key(profileKey: "\u{212A}iosk", imageTag: "1")
        #expect("Kiosk" == "\u{212A}iosk", "the premise")
        #expect(real != lookAlike && Set([real, lookAlike]).count == 2)
        #expect(VersionCache.Key(profileKey: "app", imageTag: "caf\u{E9}") != VersionCache.Key(profileKey: "app", imageTag: "cafe\u{301}"))
        #expect(real == VersionCache.Key(profileKey: "Kiosk", imageTag: "1"))
    }

    @Test func enricherContextKeysCompareByBytes() {
        let real = ProfileContextCache.Key(profileKey: "Kiosk", imageTag: "1")
        let lookAlike = ProfileContextCache.Key(profileKey: "\u{212A}iosk", imageTag: "1")
        #expect(real != lookAlike && Set([real, lookAlike]).count == 2)
    }
}
