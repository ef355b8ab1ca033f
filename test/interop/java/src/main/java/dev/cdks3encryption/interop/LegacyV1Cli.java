package dev.cdks3encryption.interop;

import java.io.File;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration;
import com.amazonaws.regions.RegionUtils;
import com.amazonaws.services.kms.AWSKMS;
import com.amazonaws.services.kms.AWSKMSClientBuilder;
import com.amazonaws.services.s3.AmazonS3Encryption;
import com.amazonaws.services.s3.AmazonS3EncryptionClientBuilder;
import com.amazonaws.services.s3.model.CryptoConfiguration;
import com.amazonaws.services.s3.model.CryptoMode;
import com.amazonaws.services.s3.model.EncryptionMaterials;
import com.amazonaws.services.s3.model.KMSEncryptionMaterials;
import com.amazonaws.services.s3.model.PutObjectRequest;
import com.amazonaws.services.s3.model.StaticEncryptionMaterialsProvider;

/**
 * Writes the legacy V1 format (AES-CBC content, `kms` key wrapping) with the retired SDK v1 encryption
 * client, the only Java writer of it, so the tests can prove the opt-in legacy read path:
 * put BUCKET KEY FILE --endpoint URL --kms-key ARN [--context k=v,...]
 */
public final class LegacyV1Cli {
    private LegacyV1Cli() { }

    @SuppressWarnings("deprecation")
    public static void main(String[] args) {
        try {
            if (args.length < 4 || !args[0].equals("put")) throw new IllegalArgumentException("usage: put BUCKET KEY FILE --endpoint URL --kms-key ARN [--context k=v,...]");
            String endpoint = null;
            String kmsKey = null;
            String context = null;
            String region = "us-east-1";
            for (int i = 4; i + 1 < args.length; i += 2) {
                switch (args[i]) {
                    case "--endpoint": endpoint = args[i + 1]; break;
                    case "--kms-key": kmsKey = args[i + 1]; break;
                    case "--context": context = args[i + 1]; break;
                    default: throw new IllegalArgumentException("unknown flag " + args[i]);
                }
            }
            if (endpoint == null || kmsKey == null) throw new IllegalArgumentException("--endpoint and --kms-key are required");
            AWSStaticCredentialsProvider credentials = new AWSStaticCredentialsProvider(new BasicAWSCredentials("testing", "testing"));
            EndpointConfiguration endpointConfig = new EndpointConfiguration(endpoint, region);
            AWSKMS kms = AWSKMSClientBuilder.standard().withCredentials(credentials).withEndpointConfiguration(endpointConfig).build();
            EncryptionMaterials materials = new KMSEncryptionMaterials(kmsKey);
            if (context != null) {
                for (String pair : context.split(",")) {
                    int eq = pair.indexOf('=');
                    materials = materials.addDescription(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
            // EncryptionOnly is the v1 mode that writes AES-CBC content: the legacy format the tests need.
            AmazonS3Encryption s3 = AmazonS3EncryptionClientBuilder.standard()
                .withCredentials(credentials)
                .withEndpointConfiguration(endpointConfig)
                .withPathStyleAccessEnabled(true)
                .withCryptoConfiguration(new CryptoConfiguration(CryptoMode.EncryptionOnly).withAwsKmsRegion(RegionUtils.getRegion(region)))
                .withEncryptionMaterials(new StaticEncryptionMaterialsProvider(materials))
                .withKmsClient(kms)
                .build();
            File file = new File(args[3]);
            s3.putObject(new PutObjectRequest(args[1], args[2], file));
            System.out.println("put s3://" + args[1] + "/" + args[2] + " " + file.length() + " bytes as v1");
            s3.shutdown();
        } catch (Exception e) {
            Throwable t = e;
            while (t != null) {
                System.err.println(t.getClass().getName() + ": " + t.getMessage());
                t = t.getCause();
            }
            System.exit(1);
        }
    }
}
