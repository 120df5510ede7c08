package io.jmagent.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The dependency rules the layout holds today (docs/architecture.md), checked on the compiled
 * classes: a change that breaks one fails the build. Rules the code does not hold yet (routing
 * free of protocol bytes) are issue 12's.
 */
@AnalyzeClasses(packages = "io.jmagent", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {

    /** No two packages depend on each other, directly or through others. */
    @ArchTest
    static final ArchRule noCyclesBetweenPackages =
            slices().matching("io.jmagent.(*)..").should().beFreeOfCycles();

    /** The protocol package knows nothing else of jmagent: decoders, requests and replies only. */
    @ArchTest
    static final ArchRule protocolDependsOnNothingElse = noClasses()
            .that()
            .resideInAPackage("io.jmagent.protocol..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.jmagent.backend..",
                    "io.jmagent.routing..",
                    "io.jmagent.frontend..",
                    "io.jmagent.metrics..",
                    "io.jmagent.config..",
                    "io.jmagent.replica..",
                    "io.jmagent.discovery..",
                    "io.jmagent.cli..",
                    "io.jmagent.auth..",
                    "io.jmagent.tenant..",
                    "io.jmagent.tls..");

    /** Connections to servers know no client, no key placement and no routing rule. */
    @ArchTest
    static final ArchRule backendKnowsNoClientNorRoute = noClasses()
            .that()
            .resideInAPackage("io.jmagent.backend..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.jmagent.frontend..",
                    "io.jmagent.routing..",
                    "io.jmagent.replica..",
                    "io.jmagent.discovery..",
                    "io.jmagent.cli..");

    /** The replica rules are pure state: they know no server, connection or protocol. */
    @ArchTest
    static final ArchRule replicaIsPureState = noClasses()
            .that()
            .resideInAPackage("io.jmagent.replica..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.jmagent.backend..",
                    "io.jmagent.protocol..",
                    "io.jmagent.frontend..",
                    "io.jmagent.routing..",
                    "io.netty..");

    /** Routing never reaches up to the sessions, listeners or the command line. */
    @ArchTest
    static final ArchRule routingKnowsNoSession = noClasses()
            .that()
            .resideInAPackage("io.jmagent.routing..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.jmagent.frontend..", "io.jmagent.cli..", "io.jmagent.discovery..");

    /** Discovery finds servers; it does not route or serve clients. */
    @ArchTest
    static final ArchRule discoveryKnowsNoClientNorRoute = noClasses()
            .that()
            .resideInAPackage("io.jmagent.discovery..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.jmagent.frontend..", "io.jmagent.routing..", "io.jmagent.cli..");

    /** Tenants are who a client is and what it may do: no protocol bytes, no route, no server. */
    @ArchTest
    static final ArchRule tenantsKnowNoProtocolNorRoute = noClasses()
            .that()
            .resideInAPackage("io.jmagent.tenant..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.jmagent.protocol..",
                    "io.jmagent.frontend..",
                    "io.jmagent.routing..",
                    "io.jmagent.backend..",
                    "io.netty..");
}
