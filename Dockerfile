# Multi-stage build of the dynamo-metrics service image (used by deploy/docker-compose.yml).
# Java 25: the NVML binding behind --gpu is compiled for Java 22+ (FFM), and runs on the JRE below
FROM maven:3.9.11-eclipse-temurin-25 AS build
WORKDIR /src
COPY pom.xml .
# javac flags for Error Prone and the formatter the build runs
COPY .mvn ./.mvn
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:25-jre
# curl serves the compose healthcheck
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/dynamo-metrics.jar /opt/dynamo-metrics/dynamo-metrics.jar
# the launcher's defaults (bin/dynamo-metrics; measured in BENCHMARKS.md): serial GC, C2 alone, a heap that starts
# small and gives memory back, native memory trimmed every 5 s, two malloc arenas, and an ahead-of-time
# cache of the classes loaded at start-up, trained here on six seconds of a demo fleet; the
# container's limit bounds the heap
ENV MALLOC_ARENA_MAX=2 \
    JVM_OPTS="-XX:+UseSerialGC -Xms8m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:MaxRAMPercentage=75 -XX:-TieredCompilation -XX:TrimNativeHeapInterval=5000"
RUN java $JVM_OPTS -XX:AOTCacheOutput=/opt/dynamo-metrics/dynamo-metrics.aot \
      -jar /opt/dynamo-metrics/dynamo-metrics.jar demo --host 127.0.0.1 --port 0 --workers 20 --poll-interval 0.2 & \
    pid=$!; sleep 6; kill -TERM $pid; wait $pid; test -s /opt/dynamo-metrics/dynamo-metrics.aot
USER 65534:65534
EXPOSE 9091
# JVM_OPTS may be replaced at run time; the cache is then used only if the JVM finds it compatible
ENTRYPOINT ["sh", "-c", "exec java $JVM_OPTS -XX:AOTCache=/opt/dynamo-metrics/dynamo-metrics.aot -Xlog:aot=off -Xlog:cds=off -jar /opt/dynamo-metrics/dynamo-metrics.jar \"$@\"", "dynamo-metrics"]
