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
USER 65534:65534
EXPOSE 9091
# the launcher's defaults (bin/dynamo-metrics; measured in BENCHMARKS.md): serial GC, a heap that starts
# small and gives memory back, native memory trimmed every 5 s; the container's limit bounds the heap
ENTRYPOINT ["java", "-XX:+UseSerialGC", "-Xms16m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30", \
  "-XX:MaxRAMPercentage=75", "-XX:TrimNativeHeapInterval=5000", "-jar", "/opt/dynamo-metrics/dynamo-metrics.jar"]
