import Logging

extension Logger.Level {
    /// librdkafka logs with syslog levels (0 emergency … 7 debug).
    init(syslog level: Int32) {
        switch level {
        case ...2: self = .critical  // emergency, alert, critical
        case 3: self = .error
        case 4: self = .warning
        case 5: self = .notice
        case 6: self = .info
        default: self = .debug
        }
    }
}
