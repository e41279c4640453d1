import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// The per-service HTTP endpoint for operators: Prometheus metrics, liveness and readiness.
public enum OpsServer {
    public static func make(host: String, port: Int, registry: PrometheusCollectorRegistry, readiness: Readiness,
                            logger: Logger) -> any Service {
        let router = Router()
        addRoutes(to: router, registry: registry, readiness: readiness)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }

    /// `/metrics`, `/healthz` and `/readyz` on a router of the service's own (profile-api serves
    /// them beside its API, on one port).
    public static func addRoutes<Context: RequestContext>(to router: Router<Context>, registry: PrometheusCollectorRegistry,
                                                          readiness: Readiness) {
        router.get("/metrics") { _, _ -> Response in
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: buffer))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let status = await readiness.evaluate()
            return Response(status: status.ready ? .ok : .serviceUnavailable,
                            body: .init(byteBuffer: ByteBuffer(string: status.reason + "\n")))
        }
    }
}
