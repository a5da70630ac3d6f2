# Multi-stage build of the dynamo-metrics service image (used by deploy/docker-compose.yml).
FROM maven:3.9.11-eclipse-temurin-21 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:21.0.8_9-jre
# curl serves the compose healthcheck
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/dynamo-metrics.jar /opt/dynamo-metrics/dynamo-metrics.jar
USER 65534:65534
EXPOSE 9091
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/dynamo-metrics/dynamo-metrics.jar"]
