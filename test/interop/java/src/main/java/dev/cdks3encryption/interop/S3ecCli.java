package dev.cdks3encryption.interop;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.SdkPartType;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.encryption.s3.CommitmentPolicy;
import software.amazon.encryption.s3.S3EncryptionClient;
import software.amazon.encryption.s3.algorithms.AlgorithmSuite;
import software.amazon.encryption.s3.internal.InstructionFileConfig;
import software.amazon.encryption.s3.materials.KmsKeyring;

/**
 * Command-line wrapper over the Amazon S3 Encryption Client for Java, for the interop tests:
 * put|get BUCKET KEY FILE --endpoint URL --kms-key ARN [--context k=v,...] [--format v2|v3]
 * [--require-commitment] [--instruction-file] [--multipart-part-size BYTES]
 * [--access-key ID --secret-key SECRET --region REGION]
 */
public final class S3ecCli {
    private S3ecCli() { }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (UsageException e) {
            System.err.println("usage error: " + e.getMessage());
            System.err.println("usage: put|get BUCKET KEY FILE --endpoint URL --kms-key ARN"
                + " [--context k=v,...] [--format v2|v3] [--require-commitment]");
            System.exit(2);
        } catch (Exception e) {
            // The tests match on the exception class and message, so print both and the causes.
            Throwable t = e;
            while (t != null) {
                System.err.println(t.getClass().getName() + ": " + t.getMessage());
                t = t.getCause();
            }
            System.exit(1);
        }
    }

    static final class UsageException extends Exception {
        UsageException(String message) { super(message); }
    }

    private static void run(String[] args) throws Exception {
        if (args.length < 4) throw new UsageException("expected put|get BUCKET KEY FILE");
        String command = args[0];
        String bucket = args[1];
        String key = args[2];
        Path file = Paths.get(args[3]);
        String endpoint = null;
        String kmsKey = null;
        String format = "v3";
        boolean requireCommitment = false;
        boolean instructionFile = false;
        long partSize = 0;
        String accessKey = "testing";
        String secretKey = "testing";
        String region = "us-east-1";
        Map<String, String> context = new LinkedHashMap<>();
        for (int i = 4; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--require-commitment")) { requireCommitment = true; continue; }
            if (flag.equals("--instruction-file")) { instructionFile = true; continue; }
            if (i + 1 >= args.length) throw new UsageException(flag + " needs a value");
            String value = args[++i];
            switch (flag) {
                case "--endpoint": endpoint = value; break;
                case "--kms-key": kmsKey = value; break;
                case "--format": format = value; break;
                case "--access-key": accessKey = value; break;
                case "--secret-key": secretKey = value; break;
                case "--region": region = value; break;
                case "--context": context = parseContext(value); break;
                case "--multipart-part-size": partSize = Long.parseLong(value); break;
                default: throw new UsageException("unknown flag " + flag);
            }
        }
        if (endpoint == null) throw new UsageException("--endpoint is required");
        if (kmsKey == null) throw new UsageException("--kms-key is required");
        if (!format.equals("v2") && !format.equals("v3")) throw new UsageException("--format must be v2 or v3");

        StaticCredentialsProvider credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey));
        URI uri = URI.create(endpoint);
        Region sdkRegion = Region.of(region);
        // Local S3 servers do not all implement the newer default checksums; only send them when S3 requires them.
        // Local servers answer `Expect: 100-continue` in ways the async HTTP client reports as an error, so never send it.
        ClientOverrideConfiguration noExpect = ClientOverrideConfiguration.builder()
            .addExecutionInterceptor(new ExecutionInterceptor() {
                @Override
                public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
                    return context.httpRequest().toBuilder().removeHeader("Expect").build();
                }
            })
            .build();
        S3Client s3 = S3Client.builder().endpointOverride(uri).region(sdkRegion).credentialsProvider(credentials)
            .forcePathStyle(true).overrideConfiguration(noExpect)
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .build();
        S3AsyncClient s3Async = S3AsyncClient.builder().endpointOverride(uri).region(sdkRegion).credentialsProvider(credentials)
            .forcePathStyle(true).overrideConfiguration(noExpect)
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .build();
        KmsClient kms = KmsClient.builder().endpointOverride(uri).region(sdkRegion).credentialsProvider(credentials).build();
        KmsKeyring keyring = KmsKeyring.builder().kmsClient(kms).wrappingKeyId(kmsKey).build();

        S3EncryptionClient.Builder builder = S3EncryptionClient.builderV4()
            .wrappedClient(s3)
            .wrappedAsyncClient(s3Async)
            .keyring(keyring);
        if (instructionFile) {
            // Key material goes to KEY.instruction instead of the object's metadata.
            builder.instructionFileConfig(InstructionFileConfig.builder()
                .instructionFileClient(s3).enableInstructionFilePutObject(true).build());
        }
        if (format.equals("v2")) {
            // The non-committing AES-GCM suite writes the V2 metadata format; the policy must allow that.
            builder.encryptionAlgorithm(AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF)
                .commitmentPolicy(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);
        } else {
            builder.encryptionAlgorithm(AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)
                .commitmentPolicy(requireCommitment
                    ? CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
                    : CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
        }

        try (S3EncryptionClient client = builder.build()) {
            switch (command) {
                case "put": {
                    if (partSize > 0) {
                        int parts = putMultipart(client, bucket, key, file, partSize, context);
                        System.out.println("put s3://" + bucket + "/" + key + " " + Files.size(file) + " bytes as " + format + " in " + parts + " parts");
                        break;
                    }
                    PutObjectRequest.Builder req = PutObjectRequest.builder().bucket(bucket).key(key);
                    if (!context.isEmpty()) req.overrideConfiguration(S3EncryptionClient.withAdditionalConfiguration(context));
                    client.putObject(req.build(), RequestBody.fromFile(file));
                    System.out.println("put s3://" + bucket + "/" + key + " " + Files.size(file) + " bytes as " + format);
                    break;
                }
                case "get": {
                    GetObjectRequest.Builder req = GetObjectRequest.builder().bucket(bucket).key(key);
                    if (!context.isEmpty()) req.overrideConfiguration(S3EncryptionClient.withAdditionalConfiguration(context));
                    try (ResponseInputStream<GetObjectResponse> in = client.getObject(req.build())) {
                        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                    }
                    System.out.println("got s3://" + bucket + "/" + key + " " + Files.size(file) + " bytes");
                    break;
                }
                default:
                    throw new UsageException("unknown command " + command);
            }
        } finally {
            kms.close();
        }
    }

    /** The client's low-level multipart API: every part but the last must be a multiple of 16 bytes. */
    private static int putMultipart(S3EncryptionClient client, String bucket, String key, Path file, long partSize,
                                    Map<String, String> context) throws Exception {
        byte[] all = Files.readAllBytes(file);
        CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder().bucket(bucket).key(key);
        if (!context.isEmpty()) create.overrideConfiguration(S3EncryptionClient.withAdditionalConfiguration(context));
        String uploadId = client.createMultipartUpload(create.build()).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        int number = 1;
        for (long offset = 0; offset < all.length || number == 1; offset += partSize, number++) {
            int length = (int) Math.min(partSize, all.length - offset);
            boolean last = offset + length >= all.length;
            UploadPartRequest.Builder part = UploadPartRequest.builder().bucket(bucket).key(key).uploadId(uploadId).partNumber(number);
            if (last) part.sdkPartType(SdkPartType.LAST);
            String etag = client.uploadPart(part.build(), RequestBody.fromBytes(java.util.Arrays.copyOfRange(all, (int) offset, (int) offset + length))).eTag();
            parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
            if (last) break;
        }
        client.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
        return parts.size();
    }

    private static Map<String, String> parseContext(String value) throws UsageException {
        Map<String, String> context = new LinkedHashMap<>();
        for (String pair : value.split(",")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) throw new UsageException("--context entries are k=v, got " + pair);
            context.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return context;
    }
}
